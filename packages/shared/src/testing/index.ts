// Test support shared by the packages' tests. Never imported by production code.
export {
  captureIO,
  adminStartupCases,
  occupiedPort,
  runNode,
  UNAVAILABLE_ADDRESS,
  type CapturedIO,
  type RunResult,
  type StartupCase,
} from './cli.ts';
export { FakeApiServer, type KubeObject, type RequestRecord } from './fake-apiserver.ts';
export { waitFor } from './wait.ts';
