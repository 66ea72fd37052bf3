// hairpin-hosts-agent configuration: flags with environment twins, parsed once, frozen.
import {
  commonConfig,
  COMMON_FLAGS,
  ConfigError,
  flagValue,
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
  { name: 'namespace', env: 'POD_NAMESPACE' },
  { name: 'hosts-file' },
  { name: 'resync-seconds' },
  { name: 'cluster-domain' },
  { name: 'node-name' },
  ...COMMON_FLAGS,
];

export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): AgentConfig {
  const flags = parseFlags(argv, env, AGENT_FLAGS);
  const problems = [...flags.problems];
  for (const p of flags.positionals) problems.push(`unexpected argument ${p}`);
  const namespace = namespaceFlag(flags, problems);
  const common = commonConfig(flags, problems);
  const hostsFile = flagValue(flags, 'hosts-file') ?? '/etc/hosts';
  if (hostsFile === '') problems.push('--hosts-file is empty');
  const resyncRaw = flagValue(flags, 'resync-seconds') ?? '60';
  const resync = Number(resyncRaw);
  if (!Number.isFinite(resync) || resync < 1 || resync > 86_400) {
    problems.push(`--resync-seconds ${JSON.stringify(resyncRaw)}: expected 1 to 86400`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...common,
    namespace,
    hostsFile,
    resyncMs: resync * 1000,
    clusterDomain: (flagValue(flags, 'cluster-domain') ?? 'cluster.local').replace(/\.$/, ''),
    nodeName: flagValue(flags, 'node-name') ?? '',
  });
}
