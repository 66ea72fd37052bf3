// Test support for hairpin's packages (private, never a dependency of production code).
export {
  adminStartupMismatches,
  kubeStartupMismatches,
  captureIO,
  occupiedPort,
  runNode,
  unreachableKubeconfig,
  UNAVAILABLE_ADDRESS,
  type CapturedIO,
  type RunResult,
} from './cli.ts';
export {
  corefileOracle,
  corefiles,
  corpusDir,
  corpusFile,
  hostsFiles,
  hostsOracle,
  kubeApiConformanceDir,
  type CorefileOracle,
  type CorpusFile,
} from './corpus.ts';
export { FakeApiServer, type KubeObject, type RequestRecord } from './fake-apiserver.ts';
export { waitFor } from './wait.ts';
