// hairpin-relay configuration: flags with environment twins (a stable CLI: docs/install.md, Configuration),
// parsed once at the edge; every problem reported at once; the result frozen.
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import {
  commonConfig,
  COMMON_FLAGS,
  ConfigError,
  durationFlag,
  flagValue,
  integerFlag,
  formatHostPort,
  parseFlags,
  parseHostPort,
  type CommonConfig,
  type FlagSpec,
} from '@hairpin/shared';
import type { ProxyVersion } from './proxy-header.ts';

export interface Route {
  /** Label for metrics and logs: the listen address, e.g. "0.0.0.0:8080". */
  readonly name: string;
  readonly listenHost: string;
  readonly listenPort: number;
  /** A DNS name (resolved when needed) or an IP address. */
  readonly targetHost: string;
  readonly targetPort: number;
}

export interface RelayConfig extends CommonConfig {
  readonly routes: readonly Route[];
  readonly proxyProtocol: ProxyVersion;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Given by --max-connections; undefined: the default, within the fd and memory limits. */
  readonly maxConnections: number | undefined;
  readonly drainTimeoutMs: number;
  readonly resolveIntervalMs: number;
  /** How long the last good answer is used after the target name stops resolving. */
  readonly holdNxMs: number;
  /** Worker processes, each binding the listen addresses; 1 = this process alone. */
  readonly workers: number;
}

/** --max-connections when not given, unless the open-file or the memory limit allows fewer. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

export const RELAY_FLAGS: readonly FlagSpec[] = [
  {
    name: 'listen',
    env: 'RELAY_ROUTES',
    repeatable: true,
    arg: 'HOST:PORT=TARGET_HOST:TARGET_PORT',
    help: 'a route; replaces --target-server; IPv6 in brackets: [::]:8080=[fd00::10]:80',
  },
  {
    name: 'proxy-protocol',
    arg: 'v1|v2',
    default: 'v1',
    help: 'PROXY header version: v1 (text) or v2 (binary)',
  },
  { name: 'connect-timeout', arg: 'DURATION', default: '5s', help: 'upstream connect timeout' },
  {
    name: 'idle-timeout',
    arg: 'DURATION',
    default: '10m',
    help: 'closes a connection with no traffic either way for this long',
  },
  {
    name: 'max-connections',
    arg: 'N',
    default: String(DEFAULT_MAX_CONNECTIONS),
    help: 'concurrent connections per process; the default is lowered to what the open-file and memory limits allow; near the memory limit, new connections are refused',
  },
  {
    name: 'drain-timeout',
    arg: 'DURATION',
    default: '25s',
    help: 'after SIGTERM, time open connections get to finish',
  },
  {
    name: 'resolve-interval',
    arg: 'DURATION',
    default: '10s',
    help: "how often the target's DNS name is re-resolved",
  },
  {
    name: 'hold-nx',
    arg: 'DURATION',
    default: '30s',
    help: "how long the last answer is used after the target's name stops existing",
  },
  {
    name: 'workers',
    envAliases: ['RELAY_WORKERS'],
    arg: 'N|auto',
    default: '1',
    help: 'worker processes, each binding the ports; auto: one per CPU',
  },
  ...COMMON_FLAGS,
  // hairpin-proxy compatibility: TARGET_SERVER=host routes :8080->host:80, :8443->host:443.
  {
    name: 'target-server',
    env: 'TARGET_SERVER',
    arg: 'HOST',
    help: 'hairpin-proxy compatible: routes 0.0.0.0:8080 to HOST:80 and 0.0.0.0:8443 to HOST:443',
  },
];

function isUnspecified(host: string): boolean {
  return host === '0.0.0.0' || canonicalIPv6(host) === '::';
}

/** The compressed text form of an IPv6 address (`0:0::1` is `::1`); other hosts unchanged. */
function canonicalIPv6(host: string): string {
  if (isIP(host) !== 6 || host.includes('%')) return host;
  return new URL(`http://[${host}]/`).hostname.slice(1, -1);
}

/**
 * Whether two listeners would collide at bind time (EADDRINUSE): the same port on the same
 * address, or on a wildcard that covers the other. `::` covers IPv4 too: Node listens
 * dual-stack. Port 0 (any free port) never collides.
 */
export function listenersOverlap(
  a: { readonly host: string; readonly port: number },
  b: { readonly host: string; readonly port: number },
): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  const x = canonicalIPv6(a.host);
  const y = canonicalIPv6(b.host);
  if (x === y || x === '::' || y === '::') return true;
  return isIP(x) === 4 && isIP(y) === 4 && (x === '0.0.0.0' || y === '0.0.0.0');
}

function parseRoute(spec: string, problems: string[]): Route | undefined {
  const eq = spec.indexOf('=');
  if (eq === -1) {
    problems.push(`--listen ${spec}: expected HOST:PORT=TARGET_HOST:TARGET_PORT`);
    return undefined;
  }
  const listen = parseHostPort(spec.slice(0, eq));
  const target = parseHostPort(spec.slice(eq + 1));
  if ('error' in listen) problems.push(`--listen ${spec}: listen address ${listen.error}`);
  if ('error' in target) problems.push(`--listen ${spec}: target ${target.error}`);
  if ('error' in listen || 'error' in target) return undefined;
  if (listen.host !== '0.0.0.0' && listen.host !== '::' && isIP(listen.host) === 0) {
    problems.push(`--listen ${spec}: listen host must be an IP address`);
  }
  if (target.port === 0) problems.push(`--listen ${spec}: target port 0`);
  // parseHostPort reads an empty host as 0.0.0.0, which as a destination means this host.
  if (isUnspecified(target.host)) {
    problems.push(`--listen ${spec}: target host is empty or 0.0.0.0; name the ingress Service`);
  }
  return {
    name: formatHostPort(listen.host, listen.port),
    listenHost: listen.host,
    listenPort: listen.port,
    targetHost: target.host,
    targetPort: target.port,
  };
}

export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): RelayConfig {
  const flags = parseFlags(argv, env, RELAY_FLAGS);
  const problems = [...flags.problems];
  for (const p of flags.positionals) problems.push(`unexpected argument ${p}`);

  const routes: Route[] = [];
  const listen = flags.values.get('listen');
  const targetServer = flagValue(flags, 'target-server');
  if (listen !== undefined) {
    for (const spec of listen) {
      const r = parseRoute(spec, problems);
      if (r !== undefined) routes.push(r);
    }
  } else if (targetServer !== undefined) {
    for (const [from, to] of [
      [8080, 80],
      [8443, 443],
    ] as const) {
      const r = parseRoute(`0.0.0.0:${from}=${targetServer}:${to}`, problems);
      if (r !== undefined) routes.push(r);
    }
  } else {
    problems.push('no routes: give --listen HOST:PORT=TARGET:PORT (RELAY_ROUTES) or TARGET_SERVER');
  }
  const common = commonConfig(flags, problems);
  // Caught here rather than as EADDRINUSE at bind time, with both settings named.
  const binds = [
    ...routes.map((r) => ({ flag: '--listen', host: r.listenHost, port: r.listenPort })),
    // A bad --admin is reported already; its fallback would only add a false overlap.
    ...(problems.some((p) => p.startsWith('--admin'))
      ? []
      : [{ flag: '--admin', ...common.admin }]),
  ];
  binds.forEach((a, i) => {
    for (const b of binds.slice(0, i)) {
      if (!listenersOverlap(a, b)) continue;
      const [x, y] = [formatHostPort(b.host, b.port), formatHostPort(a.host, a.port)];
      problems.push(
        x === y && a.flag === b.flag
          ? `${a.flag} ${x} given twice`
          : `${b.flag} ${x} and ${a.flag} ${y} overlap: both would listen on port ${a.port}`,
      );
    }
  });

  const proxyProtocol = flagValue(flags, 'proxy-protocol') ?? 'v1';
  if (proxyProtocol !== 'v1' && proxyProtocol !== 'v2') {
    problems.push(`--proxy-protocol must be v1 or v2, not ${JSON.stringify(proxyProtocol)}`);
  }

  const duration = (name: string, fallbackMs: number, minMs: number): number =>
    durationFlag(flags, RELAY_FLAGS, name, { fallbackMs, minMs, maxMs: 86_400_000 }, problems);
  const integer = (name: string, fallback: number, min: number, max: number): number =>
    integerFlag(flags, name, { fallback, min, max }, problems);
  const config: RelayConfig = {
    routes,
    proxyProtocol: proxyProtocol === 'v2' ? 'v2' : 'v1',
    ...common,
    connectTimeoutMs: duration('connect-timeout', 5_000, 1),
    idleTimeoutMs: duration('idle-timeout', 600_000, 1),
    maxConnections:
      flagValue(flags, 'max-connections') === undefined
        ? undefined
        : integer('max-connections', DEFAULT_MAX_CONNECTIONS, 1, 1_000_000),
    drainTimeoutMs: duration('drain-timeout', 25_000, 0),
    resolveIntervalMs: duration('resolve-interval', 10_000, 100),
    // HAProxy's resolvers section: `hold nx 30s`.
    holdNxMs: duration('hold-nx', 30_000, 0),
    workers:
      flagValue(flags, 'workers') === 'auto'
        ? Math.min(64, availableParallelism())
        : integer('workers', 1, 1, 64),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ ...config, routes: Object.freeze(routes.map((r) => Object.freeze(r))) });
}
