// The relay process: relay + admin server. main.ts calls runRelay with the
// parsed config; tests and the demo call it too, with their own logger and registry.
import { readdirSync, readFileSync } from 'node:fs';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from '@hairpin/shared/runtime';
import { registerBuildInfo, startAdminServer, type AdminServer } from '@hairpin/shared/runtime';
import { DEFAULT_MAX_CONNECTIONS, type RelayConfig } from './config.ts';
import { createRelayMetrics } from './metrics.ts';
import {
  cgroupMemory,
  cgroupWorkingSet,
  connectionsForMemoryLimit,
  MEMORY_HEADROOM,
  type CgroupMemory,
} from './memory-limit.ts';
import { createRelay, type MemoryGuard, type Relay } from './relay.ts';
import type { LookupAll } from './resolver.ts';

export interface RunningRelay {
  readonly relay: Relay;
  /** undefined in a worker process: the cluster primary serves the admin endpoints. */
  readonly admin: AdminServer | undefined;
  readonly registry: Registry;
  /** SIGTERM's sequence: not ready at once, stop accepting, drain, close the rest. */
  stop(): Promise<void>;
}

/** The soft limit on open files (RLIMIT_NOFILE) from /proc/self/limits, if readable. */
export function openFileLimit(limits?: string): number | undefined {
  let text = limits;
  try {
    text ??= readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(text)?.[1];
  return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
}

/**
 * The connections that fit in `limit` file descriptors, as HAProxy derives maxconn from
 * the limit: two per relayed connection (client and upstream), after a reserve for what is
 * open now (listeners, the admin server, stdio, the event loop) and for what comes and goes
 * (admin requests, DNS lookups, upstream sockets of connections being retried). Without
 * the reserve, accepted clients could find no descriptor left for their upstream socket,
 * and the kernel would drop new clients at accept, where no metric sees them.
 */
export function connectionsForFdLimit(limit: number, openNow: number): number {
  return Math.max(1, Math.floor((limit - openNow - 64) / 2));
}

/**
 * The effective --max-connections: the configured value, or the default lowered to the idle
 * connections the cgroup memory limit holds (memory-limit.ts); either within the fd limit.
 */
function maxConnections(
  config: RelayConfig,
  log: Logger,
  cgroup: CgroupMemory | undefined,
): number {
  let wanted = config.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  if (cgroup !== undefined) {
    const memory = cgroup.limit;
    const rss = process.memoryUsage.rss();
    const fitsMemory = connectionsForMemoryLimit(memory, rss, config.workers);
    const fields = { maxConnections: fitsMemory, memoryLimit: memory, rss };
    if (config.maxConnections === undefined && fitsMemory < wanted) {
      log.info(
        fields,
        `max-connections ${fitsMemory}, not ${wanted}: the memory limit (${memory} bytes) holds no more idle connections; raise it for more`,
      );
      wanted = fitsMemory;
    } else if (config.maxConnections !== undefined && fitsMemory < wanted) {
      log.warn(fields, `max-connections ${wanted} may exceed the memory limit (${memory} bytes)`);
    }
  }
  const limit = openFileLimit();
  if (limit === undefined) return wanted;
  let openNow = 32;
  try {
    openNow = readdirSync('/proc/self/fd').length;
  } catch {
    // keep the estimate
  }
  const fits = connectionsForFdLimit(limit, openNow);
  if (fits >= wanted) return wanted;
  // Below the default: said once at start. Below what the operator asked for: a warning.
  const level = config.maxConnections === undefined ? 'info' : 'warn';
  log[level](
    { maxConnections: fits, configured: wanted, openFileLimit: limit },
    `max-connections ${fits}, not ${wanted}: the open-file limit (${limit}) leaves room for no more; raise it (ulimit -n) for more`,
  );
  return fits;
}

export async function runRelay(
  config: RelayConfig,
  deps: {
    log: Logger;
    registry?: Registry;
    lookup?: LookupAll;
    admin?: boolean;
    /** A worker binds its own sockets with SO_REUSEPORT (workers.ts). */
    reusePort?: boolean;
  },
): Promise<RunningRelay> {
  const registry = deps.registry ?? new Registry();
  collectDefaultMetrics({ register: registry });
  registerBuildInfo(registry);
  const log = deps.log;
  // Within MEMORY_HEADROOM of the cgroup's limit, new connections are refused: the
  // connections already open may still grow (buffers of stalled peers) without an OOM kill.
  const cgroup = cgroupMemory();
  const memoryGuard: MemoryGuard | undefined =
    cgroup === undefined
      ? undefined
      : { ceiling: cgroup.limit - MEMORY_HEADROOM, inUse: () => cgroupWorkingSet(cgroup) };
  const relay = createRelay({
    routes: config.routes,
    proxyProtocol: config.proxyProtocol,
    connectTimeoutMs: config.connectTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    maxConnections: maxConnections(config, log, cgroup),
    ...(memoryGuard === undefined ? {} : { memoryGuard }),
    resolveIntervalMs: config.resolveIntervalMs,
    holdNxMs: config.holdNxMs,
    log: log.child({ component: 'relay' }),
    metrics: createRelayMetrics(registry),
    ...(deps.lookup === undefined ? {} : { lookup: deps.lookup }),
    ...(deps.reusePort === true ? { reusePort: true } : {}),
  });
  let shuttingDown = false;
  const admin =
    deps.admin === false
      ? undefined
      : await startAdminServer({
          host: config.admin.host,
          port: config.admin.port,
          registry,
          notReadyReason: () => (shuttingDown ? 'shutting down' : relay.notReadyReason()),
          log: log.child({ component: 'admin' }),
        });
  try {
    await relay.start();
  } catch (err) {
    await admin?.stop();
    await relay.stop(0);
    throw err;
  }
  let done: Promise<void> | undefined;
  return {
    relay,
    admin,
    registry,
    stop() {
      done ??= (async () => {
        shuttingDown = true;
        log.info(
          { open: relay.activeConnections(), drainMs: config.drainTimeoutMs },
          'shutting down',
        );
        await relay.stop(config.drainTimeoutMs);
        await admin?.stop();
        log.info('stopped');
      })();
      return done;
    },
  };
}
