// Test support shared by the packages' tests. Never imported by production code.
export { captureIO, runNode, type CapturedIO, type RunResult } from './cli.ts';
export { FakeApiServer, type KubeObject, type RequestRecord } from './fake-apiserver.ts';
export { waitFor } from './wait.ts';
