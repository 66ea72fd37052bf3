// The relay: accept, connect upstream, write the PROXY header first, then move bytes both
// ways untouched.
//
// Per connection the work is: one upstream socket, one header write, two pipes. Payload
// is never copied, concatenated or decoded in JavaScript: `pipe` hands each chunk from one
// socket's read straight to the other's write, and pauses the reader while the writer is
// full (backpressure, so a slow reader keeps memory flat). `stream.pipeline` was measured
// slower than `pipe` for short connections (measured with `pnpm bench`, docs/relay.md), and gives nothing here that
// the explicit error/close handling below does not.
//
// Half-close: both sockets are created with allowHalfOpen, so a client's FIN is passed on
// as a FIN to the ingress (pipe calls end()) and the reply still flows back; a socket is
// closed only when both of its directions are done. An error on either side destroys both.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { listenFailure } from '@hairpin/shared/runtime';
import type { Counter, Gauge } from 'prom-client';
import type { Route } from './config.ts';
import type { ConnectionResult, RelayMetrics } from './metrics.ts';
import { buildProxyHeader, type ProxyVersion } from './proxy-header.ts';
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
}

export interface Relay {
  /** Binds every route; rejects if one cannot be bound. */
  listen(): Promise<void>;
  /** Bound addresses by route name (the real port when a route listens on port 0). */
  addresses(): ReadonlyMap<string, AddressInfo>;
  /** null when ready: listening, every target resolved, not draining. */
  notReadyReason(): string | null;
  activeConnections(): number;
  /** Stops accepting, lets open connections finish for up to drainMs, then closes the rest. */
  close(drainMs: number): Promise<void>;
}

/** Metric children bound once per route, so the per-connection path does no label lookups. */
interface RouteState {
  readonly route: Route;
  readonly resolver: TargetResolver;
  readonly active: Gauge.Internal<'route'>;
  readonly bytesUp: Counter.Internal;
  readonly bytesDown: Counter.Internal;
  readonly results: Map<ConnectionResult, Counter.Internal>;
  server: Server | undefined;
}

function resultOf(err: NodeJS.ErrnoException): ConnectionResult {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'upstream_refused';
    case 'ETIMEDOUT':
      return 'upstream_timeout';
    default:
      return 'upstream_error';
  }
}

export function createRelay(options: RelayOptions): Relay {
  const { log, metrics, proxyProtocol, connectTimeoutMs, idleTimeoutMs, maxConnections } = options;
  const debug = log.isLevelEnabled('debug');
  const clients = new Set<Socket>();
  let draining = false;
  /** Set when the drain deadline passes and the remaining connections are closed. */
  let forced = false;

  const states: RouteState[] = options.routes.map((route) => ({
    route,
    resolver: new TargetResolver(route.targetHost, {
      lookup: options.lookup ?? systemLookup,
      intervalMs: options.resolveIntervalMs,
      ...(options.holdNxMs === undefined ? {} : { holdNxMs: options.holdNxMs }),
      log,
    }),
    active: metrics.active.labels({ route: route.name }),
    bytesUp: metrics.bytes.labels({ route: route.name, direction: 'client_to_upstream' }),
    bytesDown: metrics.bytes.labels({ route: route.name, direction: 'upstream_to_client' }),
    results: new Map(),
    server: undefined,
  }));

  function count(state: RouteState, result: ConnectionResult): void {
    let child = state.results.get(result);
    if (child === undefined) {
      child = metrics.connections.labels({ route: state.route.name, result });
      state.results.set(result, child);
    }
    child.inc();
  }

  function handle(state: RouteState, client: Socket): void {
    if (clients.size >= maxConnections || draining) {
      count(state, draining ? 'shutdown' : 'rejected_limit');
      client.destroy();
      return;
    }
    const started = performance.now();
    clients.add(client);
    state.active.inc();
    let upstream: Socket | undefined;
    let result: ConnectionResult | undefined;

    client.on('error', (err) => {
      result ??= 'client_error';
      if (debug) log.debug({ err, route: state.route.name }, 'client error');
    });
    client.once('close', () => {
      clients.delete(client);
      state.active.dec();
      // A client that is gone takes its upstream with it. Normally the upstream has
      // finished both ways by now (the client's write side ends only after the upstream's
      // read side did); if not, this was a reset or a timeout.
      upstream?.destroy();
      const final = result ?? (forced ? 'shutdown' : 'ok');
      count(state, final);
      state.bytesUp.inc(client.bytesRead);
      state.bytesDown.inc(client.bytesWritten);
      metrics.duration.observe((performance.now() - started) / 1000);
      if (debug) {
        log.debug(
          {
            route: state.route.name,
            client: `${client.remoteAddress}:${client.remotePort}`,
            result: final,
            bytesIn: client.bytesRead,
            bytesOut: client.bytesWritten,
          },
          'connection closed',
        );
      }
    });

    const candidates = state.resolver.pick();
    if (candidates.length === 0) {
      result = 'no_upstream';
      client.destroy();
      return;
    }
    const header = buildProxyHeader(proxyProtocol, {
      sourceAddress: client.remoteAddress ?? '0.0.0.0',
      sourcePort: client.remotePort ?? 0,
      destinationAddress: client.localAddress ?? '0.0.0.0',
      destinationPort: client.localPort ?? 0,
    });

    const attempt = (index: number): void => {
      const address = candidates[index]!;
      // noDelay, as HAProxy sets TCP_NODELAY: the header and the first client bytes are
      // two writes, and Nagle's algorithm could hold the second back for the peer's ACK.
      // (No difference was measurable in the bench, where the client writes at once.)
      const up = connect({
        host: address,
        port: state.route.targetPort,
        allowHalfOpen: true,
        noDelay: true,
      });
      upstream = up;
      const connectStarted = performance.now();

      const onConnectError = (err: NodeJS.ErrnoException): void => {
        up.destroy();
        state.resolver.markFailed(address);
        if (client.destroyed) return;
        if (index + 1 < candidates.length) {
          log.warn(
            { err, route: state.route.name, upstream: address },
            'upstream connect failed, trying the next address',
          );
          attempt(index + 1);
          return;
        }
        result = resultOf(err);
        log.warn({ err, route: state.route.name, upstream: address }, 'upstream connect failed');
        client.destroy();
      };
      const onConnectTimeout = (): void => {
        const err: NodeJS.ErrnoException = new Error(
          `connect timeout after ${connectTimeoutMs} ms`,
        );
        err.code = 'ETIMEDOUT';
        onConnectError(err);
      };
      up.setTimeout(connectTimeoutMs);
      up.once('timeout', onConnectTimeout);
      up.once('error', onConnectError);
      up.once('connect', () => {
        up.off('timeout', onConnectTimeout);
        up.off('error', onConnectError);
        up.setTimeout(0);
        metrics.upstreamConnect.observe((performance.now() - connectStarted) / 1000);
        if (client.destroyed) {
          up.destroy();
          return;
        }
        up.on('error', (err) => {
          result ??= 'upstream_error';
          if (debug) log.debug({ err, route: state.route.name }, 'upstream error');
          client.destroy();
        });
        // A client error needs no handler here: its 'close' destroys the upstream.
        // Idle: no byte either way for idleTimeoutMs. The client socket sees both
        // directions (it reads one and writes the other), so one timer covers both.
        client.setTimeout(idleTimeoutMs);
        client.once('timeout', () => {
          result ??= 'idle_timeout';
          client.destroy();
        });
        // PROXY spec §2: the header is the first bytes the receiver sees, sent at once on
        // connect, so server-speaks-first protocols work too.
        up.write(header);
        client.pipe(up);
        up.pipe(client);
      });
    };
    attempt(0);
  }

  return {
    async listen() {
      for (const state of states) state.resolver.start();
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
                { host: state.route.listenHost, port: state.route.listenPort, backlog: 4096 },
                () => {
                  server.removeAllListeners('error');
                  server.on('error', (err) =>
                    log.error({ err, route: state.route.name }, 'listener error'),
                  );
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

    activeConnections: () => clients.size,

    async close(drainMs) {
      draining = true;
      for (const s of states) s.resolver.stop();
      const closed = Promise.all(
        states.map(
          (s) =>
            new Promise<void>((resolve) =>
              s.server ? s.server.close(() => resolve()) : resolve(),
            ),
        ),
      );
      if (clients.size > 0) {
        log.info({ open: clients.size, drainMs }, 'draining connections');
        const deadline = Date.now() + drainMs;
        while (clients.size > 0 && Date.now() < deadline) {
          await new Promise((r) =>
            setTimeout(r, Math.min(100, Math.max(1, deadline - Date.now()))),
          );
        }
        if (clients.size > 0) {
          log.warn(
            { open: clients.size },
            'drain deadline reached, closing the remaining connections',
          );
          forced = true;
          for (const c of clients) c.destroy();
        }
      }
      await closed;
    },
  };
}
