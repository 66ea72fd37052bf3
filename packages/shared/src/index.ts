// The public surface of @hairpin/shared: pure functions over plain data, no I/O.
// Runtime helpers with I/O (logger, admin server) live in ./runtime, the Kubernetes
// informer (which loads @kubernetes/client-node) in ./kube; test support (the fake
// Kubernetes API server, fixtures) in the private @hairpin/testing.
export { ConfigError, ErrorCodes, HairpinError, StartupError, type ErrorCode } from './errors.ts';
export {
  checkHostname,
  checkHostnameSyntax,
  type HostCheck,
  type HostnamePolicy,
  type HostRejectReason,
} from './hostname.ts';
export {
  applyCorefileHosts,
  CorefileParseMemo,
  corefileReloads,
  findRootBlock,
  parseCorefile,
  type ParsedCorefile,
  type ServerBlock,
  managedCorefileHosts,
  renderCorefileOverride,
  tokenizeCorefile,
  type CorefileEditOptions,
  type CorefileToken,
} from './corefile.ts';
export {
  applyHostsFile,
  managedHostsFileEntries,
  managedHostsLines,
  MAX_HOSTS_LINE_BYTES,
  parseHostsEntries,
} from './hosts-file.ts';
export {
  classFilteredHosts,
  decideHosts,
  DEFAULT_SOURCE_FILTER,
  ingressClassOf,
  refOf,
  hostsFromGatewayApi,
  hostsFromIngress,
  type HostCandidate,
  type HostDecision,
  type HostRejection,
  type IngressHostSource,
  type ObjectRef,
  type SourcedHost,
  type SourceFilter,
} from './sources.ts';
export {
  CLUSTER_DOMAIN_FLAG,
  clusterDomainFlag,
  clusterDomainFromResolvConf,
  commonConfig,
  COMMON_FLAGS,
  DEFAULT_CLUSTER_DOMAIN,
  domainSuffixesFlag,
  durationFlag,
  envNameOf,
  flagValue,
  formatDuration,
  integerFlag,
  formatHostPort,
  LOG_LEVELS,
  NAMESPACE_FLAG,
  namespaceFlag,
  parseDuration,
  parseFlags,
  parseHostPort,
  relayFqdn,
  type CommonConfig,
  type FlagSpec,
  type LogLevel,
  type ParsedFlags,
} from './flags.ts';
export {
  flagDescription,
  flagSyntax,
  formatHelp,
  type CommandHelp,
  type FlagSection,
} from './help.ts';
export { MANAGED_MARKER, LEGACY_MARKER } from './markers.ts';
export { microTime } from './micro-time.ts';
export { bytesFromText, textFromBytes } from './file-bytes.ts';
export {
  decodePublishedHosts,
  encodePublishedHosts,
  HOSTS_CONFIGMAP_NAME,
  HOSTS_KEY,
  NODE_HOSTS_ANNOTATION,
  NODE_HOSTS_KEY,
  NOT_SERVED_COUNT_KEY,
  NOT_SERVED_KEY,
  RELAY_IP_KEY,
  type DecodedHosts,
  type PublishedHosts,
} from './hosts-configmap.ts';
