// hairpin-relay configuration: flags with environment twins (DESIGN.md CLIs, contract),
// parsed once at the edge; every problem reported at once; the result frozen.
import { isIP } from 'node:net';
import {
  commonConfig,
  COMMON_FLAGS,
  ConfigError,
  durationFlag,
  flagValue,
  integerFlag,
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
  readonly maxConnections: number;
  readonly drainTimeoutMs: number;
  readonly resolveIntervalMs: number;
  /** Worker processes sharing the listening sockets; 1 = this process alone. */
  readonly workers: number;
}

export const RELAY_FLAGS: readonly FlagSpec[] = [
  { name: 'listen', env: 'RELAY_ROUTES', repeatable: true },
  { name: 'proxy-protocol' },
  { name: 'connect-timeout' },
  { name: 'idle-timeout' },
  { name: 'max-connections' },
  { name: 'drain-timeout' },
  { name: 'resolve-interval' },
  { name: 'workers', envAliases: ['RELAY_WORKERS'] },
  ...COMMON_FLAGS,
  // hairpin-proxy compatibility: TARGET_SERVER=host routes :8080->host:80, :8443->host:443.
  { name: 'target-server', env: 'TARGET_SERVER' },
];

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
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return {
    name: `${host}:${listen.port}`,
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
  const seen = new Set<string>();
  for (const r of routes) {
    if (seen.has(r.name)) problems.push(`--listen ${r.name} given twice`);
    seen.add(r.name);
  }

  const proxyProtocol = flagValue(flags, 'proxy-protocol') ?? 'v1';
  if (proxyProtocol !== 'v1' && proxyProtocol !== 'v2') {
    problems.push(`--proxy-protocol must be v1 or v2, not ${JSON.stringify(proxyProtocol)}`);
  }
  const common = commonConfig(flags, problems);

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
    maxConnections: integer('max-connections', 10_000, 1, 1_000_000),
    drainTimeoutMs: duration('drain-timeout', 25_000, 0),
    resolveIntervalMs: duration('resolve-interval', 10_000, 100),
    workers: integer('workers', 1, 1, 64),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ ...config, routes: Object.freeze(routes.map((r) => Object.freeze(r))) });
}
