// The relay: one listener per route, accepting within the connection limit, readiness, and
// the drain on shutdown. Each accepted connection's path (header first, then bytes both ways
// untouched) is in connection.ts.
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { listenFailure, type Logger } from '@hairpin/shared/runtime';
import type { Route } from './config.ts';
import {
  reset,
  relayConnection,
  sweepConnections,
  type Core,
  type RouteState,
} from './connection.ts';
import { Result, type RelayMetrics } from './metrics.ts';
import type { ProxyVersion } from './proxy-header.ts';
import type { SendQueues } from './send-queues.ts';
import { systemLookup, TargetResolver, type LookupAll } from './resolver.ts';

export interface RelayOptions {
  readonly routes: readonly Route[];
  readonly proxyProtocol: ProxyVersion;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Open connections allowed across all routes; more are closed at once and counted. */
  readonly maxConnections: number;
  readonly resolveIntervalMs: number;
  /** How long the last good answer is used after the target name stops resolving. */
  readonly holdNxMs?: number;
  readonly log: Logger;
  readonly metrics: RelayMetrics;
  readonly lookup?: LookupAll;
  /** Bind with SO_REUSEPORT, so that several processes each bind their own socket. */
  readonly reusePort?: boolean;
  /** The kernel's send queues (send-queues.ts); /proc/net/tcp and tcp6 by default. */
  readonly readSendQueues?: () => SendQueues;
  /**
   * New connections are refused (and counted as `rejected_limit`) while `inUse()` is at or
   * over `ceiling` bytes; checked on every pass of the sweep (memory-limit.ts).
   */
  readonly memoryGuard?: MemoryGuard;
}

export interface MemoryGuard {
  readonly ceiling: number;
  /** Bytes in use now; undefined when unknown (then nothing is refused). */
  inUse(): number | undefined;
}

export interface Relay {
  /** Binds every route; rejects if one cannot be bound. */
  start(): Promise<void>;
  /** Bound addresses by route name (the real port when a route listens on port 0). */
  addresses(): ReadonlyMap<string, AddressInfo>;
  /** null when ready: listening, every target resolved, not draining. */
  notReadyReason(): string | null;
  activeConnections(): number;
  /** Stops accepting, lets open connections finish for up to drainMs, then resets the rest. */
  stop(drainMs: number): Promise<void>;
}

export function createRelay(options: RelayOptions): Relay {
  const { log, metrics, proxyProtocol, connectTimeoutMs, idleTimeoutMs, maxConnections } = options;
  const core: Core = {
    options,
    debug: log.isLevelEnabled('debug'),
    live: [],
    forced: false,
    batch: [],
    uncorkNow: [],
    uncorkNext: [],
    uncorkScheduled: false,
    due: [],
    sweptAt: 0,
  };
  const live = core.live;
  let draining = false;
  // The sweep's period: a quarter of the shortest timeout, between 10 ms and 1 s. Timeouts
  // are measured from timestamps, so one fires no earlier than configured and at most one
  // period later (docs/relay.md, Failures).
  const tick = Math.max(
    10,
    Math.min(1_000, Math.floor(Math.min(connectTimeoutMs, idleTimeoutMs) / 4)),
  );
  let sweeper: NodeJS.Timeout | undefined;
  /** Memory in use is at the guard's ceiling: new connections are refused. */
  let memoryFull = false;

  /** Admission by memory, on the sweep's timer: a log line when it starts and when it ends. */
  function checkMemory(guard: MemoryGuard): void {
    const inUse = guard.inUse();
    const full = inUse !== undefined && inUse >= guard.ceiling;
    if (full === memoryFull) return;
    memoryFull = full;
    const fields = { memoryInUse: inUse, ceiling: guard.ceiling, connections: live.length };
    if (full) log.warn(fields, 'memory near its limit: refusing new connections');
    else log.info(fields, 'memory below its ceiling again: accepting connections');
  }

  function sweep(): void {
    if (options.memoryGuard !== undefined) checkMemory(options.memoryGuard);
    sweepConnections(core, tick);
  }

  const states: RouteState[] = options.routes.map((route) => ({
    route,
    resolver: new TargetResolver(route.targetHost, {
      lookup: options.lookup ?? systemLookup,
      intervalMs: options.resolveIntervalMs,
      ...(options.holdNxMs === undefined ? {} : { holdNxMs: options.holdNxMs }),
      log,
    }),
    counters: metrics.route(route.name),
    server: undefined,
    acceptErrors: 0,
    acceptLoggedAt: 0,
  }));

  function handle(state: RouteState, socket: Socket): void {
    if (live.length >= maxConnections || memoryFull || draining) {
      state.counters.results[draining ? Result.shutdown : Result.rejected_limit]!++;
      socket.destroy();
      return;
    }
    relayConnection(core, state, socket);
  }

  /** EMFILE/ENFILE and the like at accept: counted, and logged at most every 10 s. */
  function acceptFailed(state: RouteState, err: NodeJS.ErrnoException): void {
    state.counters.results[Result.accept_error]!++;
    state.acceptErrors++;
    const now = Date.now();
    if (now - state.acceptLoggedAt >= 10_000) {
      log.error(
        { err, route: state.route.name, failures: state.acceptErrors },
        'accepting connections failed',
      );
      state.acceptErrors = 0;
      state.acceptLoggedAt = now;
    }
  }

  return {
    async start() {
      for (const state of states) state.resolver.start();
      sweeper = setInterval(sweep, tick);
      sweeper.unref();
      await Promise.all(
        states.map(
          (state) =>
            new Promise<void>((resolve, reject) => {
              const server = createServer(
                { allowHalfOpen: true, pauseOnConnect: true, noDelay: true },
                (socket) => handle(state, socket),
              );
              state.server = server;
              server.once('error', (err) =>
                reject(listenFailure(err, 'listen address', state.route.name)),
              );
              // A deep accept queue, like HAProxy's (its backlog defaults to maxconn): bursts of
              // new connections wait in the kernel instead of being dropped (capped by somaxconn).
              server.listen(
                {
                  host: state.route.listenHost,
                  port: state.route.listenPort,
                  backlog: 4096,
                  // Each worker process binds its own socket (no handle from a cluster
                  // primary), and the kernel spreads new connections over them.
                  ...(options.reusePort === true ? { reusePort: true, exclusive: true } : {}),
                },
                () => {
                  server.removeAllListeners('error');
                  server.on('error', (err: NodeJS.ErrnoException) => {
                    if (err.syscall === 'accept') acceptFailed(state, err);
                    else log.error({ err, route: state.route.name }, 'listener error');
                  });
                  const addr = server.address() as AddressInfo;
                  log.info(
                    {
                      route: state.route.name,
                      address: `${addr.address}:${addr.port}`,
                      target: `${state.route.targetHost}:${state.route.targetPort}`,
                      proxyProtocol,
                    },
                    'relay listening',
                  );
                  resolve();
                },
              );
            }),
        ),
      );
    },

    addresses() {
      const out = new Map<string, AddressInfo>();
      for (const s of states) {
        const a = s.server?.address();
        if (a !== null && a !== undefined && typeof a === 'object') out.set(s.route.name, a);
      }
      return out;
    },

    notReadyReason() {
      if (draining) return 'shutting down';
      const unbound = states.find((s) => s.server?.listening !== true);
      if (unbound !== undefined) return `route ${unbound.route.name} is not listening`;
      const unresolved = states.find((s) => !s.resolver.resolved);
      if (unresolved !== undefined)
        return `target ${unresolved.route.targetHost} does not resolve yet`;
      return null;
    },

    activeConnections: () => live.length,

    async stop(drainMs) {
      draining = true;
      for (const s of states) s.resolver.stop();
      const closed = Promise.all(
        states.map(
          (s) =>
            new Promise<void>((resolve) =>
              s.server?.listening === true ? s.server.close(() => resolve()) : resolve(),
            ),
        ),
      );
      if (live.length > 0) {
        log.info({ open: live.length, drainMs }, 'draining connections');
        const deadline = Date.now() + drainMs;
        while (live.length > 0 && Date.now() < deadline) {
          await new Promise((r) =>
            setTimeout(r, Math.min(100, Math.max(1, deadline - Date.now()))),
          );
        }
        if (live.length > 0) {
          log.warn(
            { open: live.length },
            'drain deadline reached, resetting the remaining connections',
          );
          core.forced = true;
          for (const conn of [...live]) reset(conn);
        }
      }
      clearInterval(sweeper);
      await closed;
    },
  };
}
