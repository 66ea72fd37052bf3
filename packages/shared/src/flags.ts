// Command-line flags with environment-variable twins (docs/install.md, Configuration): every flag
// `--some-flag` can also be set as SOME_FLAG (or a named variable); flags win.
// Pure: callers pass argv and env, and get every problem at once.
import { isIP } from 'node:net';
import { checkHostnameSyntax } from './hostname.ts';

export interface FlagSpec {
  /** Long flag name without dashes, e.g. "hosts-file". */
  readonly name: string;
  /** Environment twin; default: the name in upper snake case (HOSTS_FILE). `null`: none. */
  readonly env?: string | null;
  /** Repeatable flag; its environment twin is a comma-separated list. */
  readonly repeatable?: boolean;
  /** A switch that takes no value ("true" when present; env twin "true"/"1"). */
  readonly boolean?: boolean;
  /** Older environment names still read (after the twin), kept so existing installs work. */
  readonly envAliases?: readonly string[];
  /**
   * An older spelling of another flag, kept working: `durationFlag` reads it when the
   * flag itself is not given; a bare number in it counts in `unitMs` (e.g. --debounce-ms).
   */
  readonly aliasOf?: { readonly name: string; readonly unitMs: number };
  /** What the value looks like in --help: `HOST:PORT`, `v1|v2`, `DURATION`. Default VALUE. */
  readonly arg?: string;
  /**
   * The value used when the flag is not given, as written on the command line: giving
   * `--name <default>` changes nothing (the config tests check it). Shown by --help and in
   * the docs' tables (test/docs checks them against it).
   */
  readonly default?: string;
  /** When the default is not one fixed value: how it is chosen ("from /etc/resolv.conf, ..."). */
  readonly defaultNote?: string;
  /** One line for --help: what the flag does. */
  readonly help?: string;
}

export interface ParsedFlags {
  /** Values per flag name, only for flags that were given (by flag or by env). */
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly positionals: readonly string[];
  readonly problems: readonly string[];
  /**
   * The problems with the command line's shape (an unknown flag, a flag without its value),
   * also in `problems`: a CLI answers the first alone, pointing at --help (runtime/command.ts).
   */
  readonly usageErrors: readonly string[];
}

export function envNameOf(spec: FlagSpec): string | null {
  if (spec.env === null) return null;
  return spec.env ?? spec.name.toUpperCase().replaceAll('-', '_');
}

export function parseFlags(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  specs: readonly FlagSpec[],
): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const fromArgs = new Map<string, string[]>();
  const positionals: string[] = [];
  const problems: string[] = [];
  const usageErrors: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = byName.get(name);
    if (spec === undefined) {
      problems.push(`unknown flag --${name}`);
      usageErrors.push(`unknown flag --${name}`);
      continue;
    }
    let value: string;
    if (spec.boolean === true) {
      value = eq === -1 ? 'true' : arg.slice(eq + 1);
    } else if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        problems.push(`--${name} needs a value`);
        usageErrors.push(`--${name} needs a value`);
        continue;
      }
      value = next;
      i++;
    }
    const list = fromArgs.get(name) ?? [];
    if (list.length > 0 && spec.repeatable !== true) {
      problems.push(`--${name} given more than once`);
      continue;
    }
    list.push(value);
    fromArgs.set(name, list);
  }

  const values = new Map<string, readonly string[]>();
  for (const spec of specs) {
    const given = fromArgs.get(spec.name);
    if (given !== undefined) {
      values.set(spec.name, given);
      continue;
    }
    const envName = envNameOf(spec);
    const raw = [...(envName === null ? [] : [envName]), ...(spec.envAliases ?? [])]
      .map((name) => env[name])
      .find((v) => v !== undefined && v.trim() !== '');
    if (raw === undefined) continue;
    values.set(
      spec.name,
      spec.repeatable === true
        ? raw
            .split(',')
            .map((v) => v.trim())
            .filter((v) => v !== '')
        : [raw.trim()],
    );
  }
  return { values, positionals, problems, usageErrors };
}

/** The single value of a flag, if given. */
export function flagValue(flags: ParsedFlags, name: string): string | undefined {
  return flags.values.get(name)?.[0];
}

/** Parses "HOST:PORT", "[v6]:PORT" or ":PORT" (all interfaces). */
export function parseHostPort(
  text: string,
): { readonly host: string; readonly port: number } | { readonly error: string } {
  const m = /^(?:\[([0-9a-fA-F:.%\w]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (m === null) return { error: `"${text}" is not HOST:PORT (IPv6 in brackets: [::1]:8080)` };
  const port = Number(m[3]);
  if (port > 65535) return { error: `"${text}": port ${port} is out of range` };
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** "HOST:PORT", IPv6 in brackets: the inverse of parseHostPort, for messages and labels. */
export function formatHostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Flags every component has: the admin endpoint and the log level. */
export const COMMON_FLAGS: readonly FlagSpec[] = [
  {
    name: 'admin',
    env: 'ADMIN_ADDR',
    arg: 'IP:PORT',
    default: '0.0.0.0:9090',
    help: '/metrics, /healthz, /readyz (and the probes)',
  },
  { name: 'log-level', arg: LOG_LEVELS.join('|'), default: 'info', help: 'log level' },
];

export type LogLevel = (typeof LOG_LEVELS)[number];

export interface CommonConfig {
  readonly admin: { readonly host: string; readonly port: number };
  readonly logLevel: LogLevel;
}

/** --admin (default 0.0.0.0:9090) and --log-level (default info); problems appended. */
export function commonConfig(flags: ParsedFlags, problems: string[]): CommonConfig {
  const raw = flagValue(flags, 'admin') ?? '0.0.0.0:9090';
  let admin = parseHostPort(raw);
  if (!('error' in admin) && isIP(admin.host) === 0) {
    // Resolving a name here would fail at bind time with a stack, or bind somewhere unmeant.
    admin = { error: `"${raw}": host must be an IP address (0.0.0.0 for every interface)` };
  }
  if ('error' in admin) problems.push(`--admin ${admin.error}`);
  const level = flagValue(flags, 'log-level') ?? 'info';
  const logLevel = LOG_LEVELS.find((l) => l === level);
  if (logLevel === undefined) {
    problems.push(`--log-level ${JSON.stringify(level)}: expected one of ${LOG_LEVELS.join(', ')}`);
  }
  return {
    admin: 'error' in admin ? { host: '0.0.0.0', port: 9090 } : admin,
    logLevel: logLevel ?? 'info',
  };
}

/** --namespace with its historical twin POD_NAMESPACE (the manifests set it from the pod). */
export const NAMESPACE_FLAG: FlagSpec = {
  name: 'namespace',
  env: 'POD_NAMESPACE',
  arg: 'NS',
  default: 'hairpin',
  help: "hairpin's namespace",
};

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** --namespace (POD_NAMESPACE), default hairpin; problems appended. */
export function namespaceFlag(flags: ParsedFlags, problems: string[]): string {
  const namespace = flagValue(flags, 'namespace') ?? 'hairpin';
  if (!NAMESPACE.test(namespace))
    problems.push(`--namespace ${JSON.stringify(namespace)} is not a namespace name`);
  return namespace;
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** "250ms", "5s", "2m", "1h"; a bare number counts in `bareUnitMs` (seconds by default). */
export function parseDuration(text: string, bareUnitMs = 1000): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) return undefined;
  const unit = m[2] === undefined ? bareUnitMs : DURATION_UNITS_MS[m[2]]!;
  return Math.round(Number(m[1]) * unit);
}

/** "250ms", "5s", "2m": how durations are written in messages and docs. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** The flag's own value, else the value of an older alias spelling with that alias's unit. */
function valueOrAlias(
  flags: ParsedFlags,
  name: string,
  specs: readonly FlagSpec[],
): { flag: string; raw: string; bareUnitMs: number } | undefined {
  const raw = flagValue(flags, name);
  if (raw !== undefined) return { flag: name, raw, bareUnitMs: 1000 };
  for (const s of specs) {
    const aliased = s.aliasOf?.name === name ? flagValue(flags, s.name) : undefined;
    if (aliased !== undefined) return { flag: s.name, raw: aliased, bareUnitMs: s.aliasOf!.unitMs };
  }
  return undefined;
}

/** A duration flag (or its older alias) in milliseconds, within [minMs, maxMs]; problems appended. */
export function durationFlag(
  flags: ParsedFlags,
  specs: readonly FlagSpec[],
  name: string,
  range: { readonly fallbackMs: number; readonly minMs: number; readonly maxMs: number },
  problems: string[],
): number {
  const given = valueOrAlias(flags, name, specs);
  if (given === undefined) return range.fallbackMs;
  const ms = parseDuration(given.raw, given.bareUnitMs);
  const where = `--${given.flag} ${JSON.stringify(given.raw)}`;
  if (ms === undefined) {
    problems.push(`${where}: expected a duration such as 5s, 500ms or 10m`);
    return range.fallbackMs;
  }
  if (ms < range.minMs || ms > range.maxMs) {
    const [min, max] = [formatDuration(range.minMs), formatDuration(range.maxMs)];
    problems.push(`${where}: expected a duration from ${min} to ${max}`);
    return range.fallbackMs;
  }
  return ms;
}

/** A whole-number flag within [min, max]; problems appended. */
export function integerFlag(
  flags: ParsedFlags,
  name: string,
  range: { readonly fallback: number; readonly min: number; readonly max: number },
  problems: string[],
): number {
  const raw = flagValue(flags, name);
  if (raw === undefined) return range.fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < range.min || n > range.max) {
    problems.push(
      `--${name} ${JSON.stringify(raw)}: expected a whole number from ${range.min} to ${range.max}`,
    );
    return range.fallback;
  }
  return n;
}

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** --cluster-domain, read by clusterDomainFlag. */
export const CLUSTER_DOMAIN_FLAG: FlagSpec = {
  name: 'cluster-domain',
  arg: 'DOMAIN',
  defaultNote: `from /etc/resolv.conf, else ${DEFAULT_CLUSTER_DOMAIN}`,
  help: 'names under it are never hairpinned',
};

/** `search hairpin.svc.cluster.local svc.cluster.local cluster.local` → cluster.local */
export function clusterDomainFromResolvConf(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = /^\s*search\s+(.+)$/.exec(line);
    if (m === null) continue;
    for (const domain of m[1]!.split(/\s+/)) {
      const i = domain.indexOf('.svc.');
      if (i !== -1) return domain.slice(i + 5).replace(/\.$/, '');
    }
  }
  return undefined;
}

/**
 * --cluster-domain, the one rule for every component and command: the flag, else the
 * domain in resolv.conf's search list (a pod's resolv.conf names it), else cluster.local.
 */
export function clusterDomainFlag(
  flags: ParsedFlags,
  resolvConf: string | undefined,
  problems: string[],
): string {
  const domain = (
    flagValue(flags, 'cluster-domain') ??
    clusterDomainFromResolvConf(resolvConf ?? '') ??
    DEFAULT_CLUSTER_DOMAIN
  )
    .toLowerCase()
    .replace(/\.$/, '');
  // A single-label domain such as "local" is valid here, unlike a hostname.
  if (
    domain.length > 253 ||
    !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/.test(domain)
  ) {
    problems.push(`--cluster-domain ${JSON.stringify(domain)} is not a DNS name`);
  }
  return domain;
}

/**
 * A repeatable domain-suffix flag (--allowed-suffix, --node-host-suffix): each value lower
 * case, without a leading `*.` or `.` and a final dot; problems appended.
 */
export function domainSuffixesFlag(flags: ParsedFlags, name: string, problems: string[]): string[] {
  const suffixes = (flags.values.get(name) ?? []).map((s) =>
    s
      .toLowerCase()
      .replace(/^\*?\./, '')
      .replace(/\.$/, ''),
  );
  for (const s of suffixes)
    if (!checkHostnameSyntax(s).ok)
      problems.push(`--${name} ${JSON.stringify(s)} is not a DNS name`);
  return suffixes;
}

/** The relay Service's name inside the cluster: hairpin-relay.<namespace>.svc.<domain>. */
export function relayFqdn(service: string, namespace: string, clusterDomain: string): string {
  return `${service}.${namespace}.svc.${clusterDomain}`;
}
