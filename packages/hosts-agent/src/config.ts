// hairpin-hosts-agent configuration: flags with environment twins, parsed once, frozen.
import {
  CLUSTER_DOMAIN_FLAG,
  clusterDomainFlag,
  commonConfig,
  COMMON_FLAGS,
  ConfigError,
  durationFlag,
  flagValue,
  NAMESPACE_FLAG,
  namespaceFlag,
  parseFlags,
  type CommonConfig,
  type FlagSpec,
} from '@hairpin/shared';

export interface AgentConfig extends CommonConfig {
  readonly namespace: string;
  readonly hostsFile: string;
  readonly resyncMs: number;
  readonly clusterDomain: string;
  readonly nodeName: string;
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
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...common,
    namespace,
    hostsFile,
    resyncMs,
    clusterDomain,
    nodeName: flagValue(flags, 'node-name') ?? '',
  });
}
