// Test support shared by the packages' tests. Never imported by production code.
export {
  captureIO,
  adminStartupMismatches,
  occupiedPort,
  runNode,
  UNAVAILABLE_ADDRESS,
  type CapturedIO,
  type RunResult,
} from './cli.ts';
export { FakeApiServer, type KubeObject, type RequestRecord } from './fake-apiserver.ts';
export { waitFor } from './wait.ts';
