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
export {
  CLUSTER_SERVICES,
  coreDNSMissing,
  findCoreDNS,
  startCoreDNS,
  type RunningCoreDNS,
  type StartCoreDNSOptions,
} from './coredns.ts';
export { describeWithCoreDNS } from './coredns-describe.ts';
export {
  CORPUS_RUNS,
  isInvalidCorpusFile,
  isRunnableCorpusFile,
  prepareCorpusCorefile,
  type CorpusRun,
} from './coredns-corpus.ts';
export {
  PILLAR_DEFAULTS,
  prepareCorefile,
  type ForwardSite,
  type PillarName,
  type PrepareCorefileOptions,
} from './coredns-prepare.ts';
export {
  queryDns,
  type DnsAnswer,
  type DnsQueryOptions,
  type DnsServerAddress,
} from './dns-client.ts';
export {
  STUB_UPSTREAM_RECORDS,
  STUB_UPSTREAM_TTL,
  startStubUpstream,
  type StubQuery,
  type StubRecords,
  type StubUpstream,
} from './dns-stub-upstream.ts';
export {
  decodeMessage,
  encodeQuery,
  encodeResponse,
  type AnswerRecord,
  type DnsMessage,
  type DnsRecord,
} from './dns-wire.ts';
export {
  freePort,
  HAPROXY,
  httpGet,
  NGINX,
  peerMissing,
  startHaproxyReceiver,
  startNginx,
  type Peer,
} from './peers.ts';
export { FakeApiServer, type KubeObject, type RequestRecord } from './fake-apiserver.ts';
export { binaryMissing, skipOrFail } from './missing.ts';
export { manifestNodeFlags } from './manifests.ts';
export { waitFor } from './wait.ts';
