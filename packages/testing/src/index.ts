// Test support for hairpin's packages (private, never a dependency of production code).
export {
  adminStartupMismatches,
  cliContractMismatches,
  helpMismatches,
  isKnownCommit,
  kubeStartupMismatches,
  captureIO,
  occupiedPort,
  runNode,
  unreachableKubeconfig,
  parseVersionLine,
  UNAVAILABLE_ADDRESS,
  type CapturedIO,
  type HelpFlag,
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
