// Command-line flags with environment-variable twins (docs/install.md, Configuration): every flag
// `--some-flag` can also be set as SOME_FLAG (or a named variable); flags win.
// Pure: callers pass argv and env, and get every problem at once.
import { isIP } from 'node:net';

export interface FlagSpec {
  /** Long flag name without dashes, e.g. "hosts-file". */
  readonly name: string;
  /** Environment twin; default: the name in upper snake case (HOSTS_FILE). `null`: none. */
  readonly env?: string | null;
  /** Repeatable flag; its environment twin is a comma-separated list. */
  readonly repeatable?: boolean;
  /** A switch that takes no value ("true" when present; env twin "true"/"1"). */
  readonly boolean?: boolean;
}

export interface ParsedFlags {
  /** Values per flag name, only for flags that were given (by flag or by env). */
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly positionals: readonly string[];
  readonly problems: readonly string[];
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
    const raw = envName === null ? undefined : env[envName];
    if (raw === undefined || raw.trim() === '') continue;
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
  return { values, positionals, problems };
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

/** Flags every component has: the admin endpoint and the log level. */
export const COMMON_FLAGS: readonly FlagSpec[] = [
  { name: 'admin', env: 'ADMIN_ADDR' },
  { name: 'log-level' },
];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
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
    problems.push(`--log-level ${JSON.stringify(level)}: expected error, warn, info or debug`);
  }
  return {
    admin: 'error' in admin ? { host: '0.0.0.0', port: 9090 } : admin,
    logLevel: logLevel ?? 'info',
  };
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** --namespace (POD_NAMESPACE), default hairpin; problems appended. */
export function namespaceFlag(flags: ParsedFlags, problems: string[]): string {
  const namespace = flagValue(flags, 'namespace') ?? 'hairpin';
  if (!NAMESPACE.test(namespace))
    problems.push(`--namespace ${JSON.stringify(namespace)} is not a namespace name`);
  return namespace;
}
