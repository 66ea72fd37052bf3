// hairpin-hosts-agent configuration: flags with environment twins, parsed once, frozen.
import { ConfigError, flagValue, parseFlags, parseHostPort, type FlagSpec } from '@hairpin/shared';

export interface AgentConfig {
  readonly namespace: string;
  readonly hostsFile: string;
  readonly admin: { readonly host: string; readonly port: number };
  readonly resyncMs: number;
  readonly clusterDomain: string;
  readonly nodeName: string;
  readonly logLevel: string;
}

export const AGENT_FLAGS: readonly FlagSpec[] = [
  { name: 'namespace', env: 'POD_NAMESPACE' },
  { name: 'hosts-file' },
  { name: 'admin', env: 'ADMIN_ADDR' },
  { name: 'resync-seconds' },
  { name: 'cluster-domain' },
  { name: 'node-name' },
  { name: 'log-level' },
];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): AgentConfig {
  const flags = parseFlags(argv, env, AGENT_FLAGS);
  const problems = [...flags.problems];
  for (const p of flags.positionals) problems.push(`unexpected argument ${p}`);
  const namespace = flagValue(flags, 'namespace') ?? 'hairpin';
  if (!DNS_LABEL.test(namespace) || namespace.length > 63)
    problems.push(`--namespace ${JSON.stringify(namespace)} is not a namespace name`);
  const hostsFile = flagValue(flags, 'hosts-file') ?? '/etc/hosts';
  if (hostsFile === '') problems.push('--hosts-file is empty');
  const admin = parseHostPort(flagValue(flags, 'admin') ?? '0.0.0.0:9090');
  if ('error' in admin) problems.push(`--admin ${admin.error}`);
  const resyncRaw = flagValue(flags, 'resync-seconds') ?? '60';
  const resync = Number(resyncRaw);
  if (!Number.isFinite(resync) || resync < 1 || resync > 86_400) {
    problems.push(`--resync-seconds ${JSON.stringify(resyncRaw)}: expected 1 to 86400`);
  }
  const logLevel = flagValue(flags, 'log-level') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    problems.push(`--log-level ${JSON.stringify(logLevel)}: expected error, warn, info or debug`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    namespace,
    hostsFile,
    admin: 'error' in admin ? { host: '0.0.0.0', port: 9090 } : admin,
    resyncMs: resync * 1000,
    clusterDomain: (flagValue(flags, 'cluster-domain') ?? 'cluster.local').replace(/\.$/, ''),
    nodeName: flagValue(flags, 'node-name') ?? '',
    logLevel,
  });
}
