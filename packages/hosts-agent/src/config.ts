// hairpin-hosts-agent configuration: flags with environment twins, parsed once, frozen.
import {
  CLUSTER_DOMAIN_FLAG,
  clusterDomainFlag,
  commonConfig,
  COMMON_FLAGS,
  ConfigError,
  domainSuffixesFlag,
  durationFlag,
  flagValue,
  integerFlag,
  NAMESPACE_FLAG,
  namespaceFlag,
  parseFlags,
  type CommonConfig,
  type FlagSpec,
} from '@hairpin/shared';
import { DEFAULT_MAX_LINES, NODE_HOSTS_MODES, type NodeHostsMode } from './select.ts';

export interface AgentConfig extends CommonConfig {
  readonly namespace: string;
  readonly hostsFile: string;
  readonly resyncMs: number;
  readonly clusterDomain: string;
  readonly nodeName: string;
  /** Which published hosts this node's file gets (select.ts). */
  readonly nodeHosts: NodeHostsMode;
  readonly nodeHostSuffixes: readonly string[];
  /** At most this many managed lines in the node's file. */
  readonly maxLines: number;
}

export const AGENT_FLAGS: readonly FlagSpec[] = [
  { ...NAMESPACE_FLAG, help: 'where the ConfigMap hairpin-hosts lives' },
  { name: 'hosts-file', arg: 'PATH', default: '/etc/hosts', help: "the node's hosts file" },
  {
    name: 'resync',
    arg: 'DURATION',
    default: '1m',
    help: "re-reads the node's file this often and repairs the managed lines",
  },
  { name: 'resync-seconds', aliasOf: { name: 'resync', unitMs: 1000 }, arg: 'DURATION' },
  { ...CLUSTER_DOMAIN_FLAG, help: 'names under it are never written' },
  { name: 'node-name', arg: 'NAME', help: 'for the logs' },
  {
    name: 'node-hosts',
    arg: NODE_HOSTS_MODES.join('|'),
    default: 'auto',
    help: 'which hosts the node gets: all; selected (annotated hairpin.dev/node-hosts, or under --node-host-suffix); auto: selected once anything is, else all',
  },
  {
    name: 'node-host-suffix',
    arg: 'DOMAIN',
    repeatable: true,
    help: 'hosts under this domain are meant for nodes',
  },
  {
    name: 'max-lines',
    arg: 'N',
    default: String(DEFAULT_MAX_LINES),
    help: "at most this many managed lines in the node's file (glibc reads the whole file on every lookup)",
  },
  ...COMMON_FLAGS,
];

export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: { readonly readResolvConf?: () => string | undefined } = {},
): AgentConfig {
  const flags = parseFlags(argv, env, AGENT_FLAGS);
  const problems = [...flags.problems];
  for (const p of flags.positionals) problems.push(`unexpected argument ${p}`);
  const namespace = namespaceFlag(flags, problems);
  const common = commonConfig(flags, problems);
  const hostsFile = flagValue(flags, 'hosts-file') ?? '/etc/hosts';
  if (hostsFile === '') problems.push('--hosts-file is empty');
  const resyncMs = durationFlag(
    flags,
    AGENT_FLAGS,
    'resync',
    { fallbackMs: 60_000, minMs: 100, maxMs: 86_400_000 },
    problems,
  );
  const clusterDomain = clusterDomainFlag(flags, io.readResolvConf?.(), problems);
  const nodeHosts = flagValue(flags, 'node-hosts') ?? 'auto';
  if (!(NODE_HOSTS_MODES as readonly string[]).includes(nodeHosts))
    problems.push(`--node-hosts must be one of ${NODE_HOSTS_MODES.join(', ')}`);
  const nodeHostSuffixes = domainSuffixesFlag(flags, 'node-host-suffix', problems);
  const maxLines = integerFlag(
    flags,
    'max-lines',
    { fallback: DEFAULT_MAX_LINES, min: 1, max: 1_000_000 },
    problems,
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...common,
    namespace,
    hostsFile,
    resyncMs,
    clusterDomain,
    nodeName: flagValue(flags, 'node-name') ?? '',
    nodeHosts: nodeHosts as NodeHostsMode,
    nodeHostSuffixes: Object.freeze(nodeHostSuffixes),
    maxLines,
  });
}
