// The relay: accept, connect upstream, write the PROXY header first, then move bytes both
// ways untouched.
//
// The per-connection path is written for Node's public socket API at its cheapest
// (docs/relay.md, "Benchmark"):
// - No closures per connection: the handlers below are module functions; each socket
//   carries its Connection under a symbol and a handler finds its peer through it.
// - Upstream to client: `onread` with one shared 64 KiB buffer, so the upstream socket
//   allocates no stream chunk per read. The bytes are copied into a right-sized Buffer
//   before write(), so the shared buffer is free again when the callback returns; when
//   write() returns false the callback returns false (reading stops) and the client's
//   'drain' resumes it.
// - Client to upstream: 'data' events, write()'s return value, pause() and the upstream's
//   'drain': what `pipe` does, without its per-chunk bookkeeping and extra listeners.
// - The PROXY header is corked on connect and leaves in one write with the client's first
//   bytes (uncorked on that chunk, or two loop turns after connect for protocols where the
//   server speaks first).
// - Connect and idle timeouts come from one sweep over the live connections, not from a
//   timer per socket re-armed on every read and write.
// - Live connections sit in an array with swap-remove: a Set's add/delete churn promoted
//   whole connection graphs to the old generation (scavenges of 7-13 ms).
// - Metrics are plain numbers (metrics.ts), turned into series when scraped.
//
// Half-close: both sockets are created with allowHalfOpen, so a client's FIN is passed on
// as a FIN to the ingress and the reply still flows back; a socket is closed only when both
// of its directions are done. An error on either side destroys both.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { listenFailure, type Logger } from '@hairpin/shared/runtime';
import type { Route } from './config.ts';
import {
  Result,
  RESULTS,
  type ConnectionResult,
  type RelayMetrics,
  type RouteCounters,
} from './metrics.ts';
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
  /** Bind with SO_REUSEPORT, so that several processes each bind their own socket. */
  readonly reusePort?: boolean;
}

export interface Relay {
  /** Binds every route; rejects if one cannot be bound. */
  listen(): Promise<void>;
  /** Bound addresses by route name (the real port when a route listens on port 0). */
  addresses(): ReadonlyMap<string, AddressInfo>;
  /** null when ready: listening, every target resolved, not draining. */
  notReadyReason(): string | null;
  activeConnections(): number;
  /** Stops accepting, lets open connections finish for up to drainMs, then resets the rest. */
  close(drainMs: number): Promise<void>;
}

interface RouteState {
  readonly route: Route;
  readonly resolver: TargetResolver;
  readonly counters: RouteCounters;
  server: Server | undefined;
  /** Accept failures not yet logged (the log is rate-limited). */
  acceptErrors: number;
  acceptLoggedAt: number;
}

const kConn = Symbol('hairpin.connection');
type RelaySocket = Socket & { [kConn]: Connection };

/** One relayed connection: everything the shared handlers need, in one object shape. */
class Connection {
  upstream: RelaySocket | null = null;
  header: Buffer | null = null;
  /** A ConnectionResult index once the end is known; -1 while open. */
  result = -1;
  /** Position in Core.live (swap-remove). */
  index = 0;
  /** Milliseconds without a read either way, as counted by the sweep. */
  idleMs = 0;
  /** performance.now() when the current upstream attempt started; 0 once connected. */
  connectStarted = 0;
  attempt = 0;
  corked = false;
  readonly core: Core;
  readonly state: RouteState;
  readonly client: RelaySocket;
  readonly candidates: readonly string[];
  readonly started: number;
  constructor(
    core: Core,
    state: RouteState,
    client: RelaySocket,
    candidates: readonly string[],
    started: number,
  ) {
    this.core = core;
    this.state = state;
    this.client = client;
    this.candidates = candidates;
    this.started = started;
  }
}

/** What the shared handlers reach through a Connection: the relay's settings and state. */
interface Core {
  readonly options: RelayOptions;
  readonly debug: boolean;
  readonly live: Connection[];
  forced: boolean;
  /** Connections corked this loop turn, and those to uncork at the next check phase. */
  uncorkNow: Connection[];
  uncorkNext: Connection[];
  uncorkScheduled: boolean;
}

// One buffer for every upstream read of this process: the callback copies out what it
// reads before returning, so no read ever sees another's bytes.
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

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

function setResult(conn: Connection, result: number): void {
  if (conn.result === -1) conn.result = result;
}

// --- client socket handlers (`this` is the client) ---

function onClientData(this: RelaySocket, chunk: Buffer): void {
  const conn = this[kConn];
  conn.idleMs = 0;
  const up = conn.upstream!;
  if (!up.write(chunk)) this.pause();
  if (conn.corked) {
    conn.corked = false;
    up.uncork();
  }
}

function onClientEnd(this: RelaySocket): void {
  const conn = this[kConn];
  conn.corked = false;
  conn.upstream!.end(); // end() uncorks too
}

function onClientDrain(this: RelaySocket): void {
  this[kConn].upstream?.resume();
}

function onClientError(this: RelaySocket, err: Error): void {
  const conn = this[kConn];
  setResult(conn, Result.client_error);
  if (conn.core.debug)
    conn.core.options.log.debug({ err, route: conn.state.route.name }, 'client error');
}

function onClientClose(this: RelaySocket): void {
  finish(this[kConn]);
}

// --- upstream socket handlers (`this` is the upstream) ---

function onUpstreamRead(this: RelaySocket, nread: number, buf: Buffer): boolean {
  const conn = this[kConn];
  conn.idleMs = 0;
  const client = conn.client;
  if (client.destroyed) return false;
  const out = Buffer.allocUnsafe(nread);
  buf.copy(out, 0, 0, nread);
  return client.write(out);
}

function onUpstreamEnd(this: RelaySocket): void {
  this[kConn].client.end();
}

function onUpstreamDrain(this: RelaySocket): void {
  this[kConn].client.resume();
}

function onUpstreamConnect(this: RelaySocket): void {
  const conn = this[kConn];
  if (conn.upstream !== this) return;
  const { core, client } = conn;
  core.options.metrics.upstreamConnect.observe((performance.now() - conn.connectStarted) / 1000);
  conn.connectStarted = 0;
  conn.idleMs = 0;
  if (client.destroyed) {
    this.destroy();
    return;
  }
  client.on('data', onClientData);
  client.on('end', onClientEnd);
  client.on('drain', onClientDrain);
  // PROXY spec §2: the header is the first bytes the receiver sees. Corked, it leaves with
  // the client's first bytes in one write; the uncork two loop turns later sends it alone
  // when the client has nothing to say (the server speaks first).
  this.cork();
  this.write(conn.header!);
  conn.header = null;
  conn.corked = true;
  core.uncorkNow.push(conn);
  if (!core.uncorkScheduled) {
    core.uncorkScheduled = true;
    setImmediate(flushUncorks, core);
  }
  client.resume();
}

function onUpstreamError(this: RelaySocket, err: NodeJS.ErrnoException): void {
  const conn = this[kConn];
  if (conn.upstream !== this) return;
  if (conn.connectStarted !== 0) {
    connectFailed(conn, err);
    return;
  }
  setResult(conn, Result.upstream_error);
  if (conn.core.debug)
    conn.core.options.log.debug({ err, route: conn.state.route.name }, 'upstream error');
  conn.client.destroy();
}

function flushUncorks(core: Core): void {
  core.uncorkScheduled = false;
  for (const conn of core.uncorkNext) {
    if (conn.corked) {
      conn.corked = false;
      conn.upstream!.uncork();
    }
  }
  const done = core.uncorkNext;
  done.length = 0;
  core.uncorkNext = core.uncorkNow;
  core.uncorkNow = done;
  if (core.uncorkNext.length > 0) {
    core.uncorkScheduled = true;
    setImmediate(flushUncorks, core);
  }
}

function connectUpstream(conn: Connection): void {
  const { state } = conn;
  const up = connect({
    host: conn.candidates[conn.attempt]!,
    port: state.route.targetPort,
    allowHalfOpen: true,
    // As HAProxy sets TCP_NODELAY: small writes leave at once.
    noDelay: true,
    onread: { buffer: READ_BUFFER, callback: onUpstreamRead },
  }) as RelaySocket;
  up[kConn] = conn;
  conn.upstream = up;
  conn.connectStarted = performance.now();
  up.on('connect', onUpstreamConnect);
  up.on('error', onUpstreamError);
  up.on('end', onUpstreamEnd);
  up.on('drain', onUpstreamDrain);
}

function connectFailed(conn: Connection, err: NodeJS.ErrnoException): void {
  const { core, state, client } = conn;
  const address = conn.candidates[conn.attempt]!;
  conn.upstream?.destroy();
  state.resolver.markFailed(address);
  conn.connectStarted = 0;
  if (client.destroyed) return;
  const log = core.options.log;
  if (conn.attempt + 1 < conn.candidates.length) {
    log.warn(
      { err, route: state.route.name, upstream: address },
      'upstream connect failed, trying the next address',
    );
    conn.attempt++;
    connectUpstream(conn);
    return;
  }
  setResult(conn, Result[resultOf(err)]);
  log.warn({ err, route: state.route.name, upstream: address }, 'upstream connect failed');
  client.destroy();
}

/**
 * Ends a connection with a TCP reset on both sides, so that neither peer can take a cut
 * transfer for a complete one (a FIN would look like a normal end).
 */
function reset(conn: Connection): void {
  const { client, upstream } = conn;
  if (!client.destroyed) client.resetAndDestroy();
  if (upstream !== null && !upstream.destroyed) {
    if (upstream.connecting) upstream.destroy();
    else upstream.resetAndDestroy();
  }
}

function finish(conn: Connection): void {
  const { core, state, client } = conn;
  const live = core.live;
  const last = live.pop()!;
  if (last !== conn) {
    live[conn.index] = last;
    last.index = conn.index;
  }
  const c = state.counters;
  c.active--;
  // A client that is gone takes its upstream with it. Normally the upstream has finished
  // both ways by now (the client's write side ends only after the upstream's read side
  // did); if not, this was a reset or a timeout.
  conn.upstream?.destroy();
  const result = conn.result !== -1 ? conn.result : core.forced ? Result.shutdown : Result.ok;
  c.results[result]!++;
  c.bytesUp += client.bytesRead;
  c.bytesDown += client.bytesWritten;
  core.options.metrics.duration.observe((performance.now() - conn.started) / 1000);
  if (core.debug) {
    core.options.log.debug(
      {
        route: state.route.name,
        client: `${client.remoteAddress}:${client.remotePort}`,
        result: RESULTS[result],
        bytesIn: client.bytesRead,
        bytesOut: client.bytesWritten,
      },
      'connection closed',
    );
  }
}

export function createRelay(options: RelayOptions): Relay {
  const { log, metrics, proxyProtocol, connectTimeoutMs, idleTimeoutMs, maxConnections } = options;
  const core: Core = {
    options,
    debug: log.isLevelEnabled('debug'),
    live: [],
    forced: false,
    uncorkNow: [],
    uncorkNext: [],
    uncorkScheduled: false,
  };
  const live = core.live;
  let draining = false;
  // The sweep's period: a quarter of the shortest timeout, between 10 ms and 1 s, so a
  // timeout fires at most a quarter (or one second) late.
  const tick = Math.max(
    10,
    Math.min(1_000, Math.floor(Math.min(connectTimeoutMs, idleTimeoutMs) / 4)),
  );
  let sweeper: NodeJS.Timeout | undefined;

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

  function sweep(): void {
    const now = performance.now();
    for (let i = 0; i < live.length; i++) {
      const conn = live[i]!;
      if (conn.connectStarted !== 0) {
        if (now - conn.connectStarted >= connectTimeoutMs) {
          const err: NodeJS.ErrnoException = new Error(
            `connect timeout after ${connectTimeoutMs} ms`,
          );
          err.code = 'ETIMEDOUT';
          connectFailed(conn, err);
        }
      } else if (conn.upstream !== null && (conn.idleMs += tick) >= idleTimeoutMs) {
        setResult(conn, Result.idle_timeout);
        // A connection that never carried a byte has nothing to truncate: a plain close.
        // One that did may be cut mid-transfer, which must not look like a complete one.
        if (conn.client.bytesRead + conn.client.bytesWritten === 0) conn.client.destroy();
        else reset(conn);
      }
    }
  }

  function handle(state: RouteState, socket: Socket): void {
    const client = socket as RelaySocket;
    const c = state.counters;
    if (live.length >= maxConnections || draining) {
      c.results[draining ? Result.shutdown : Result.rejected_limit]!++;
      client.destroy();
      return;
    }
    // A client that reset before it was handled has no addresses any more: there is nothing
    // true to put in a header, so it is dropped, never relayed with a made-up address.
    const remoteAddress = client.remoteAddress;
    const localAddress = client.localAddress;
    if (remoteAddress === undefined || localAddress === undefined) {
      c.results[Result.no_client_address]!++;
      client.destroy();
      return;
    }
    const conn = new Connection(core, state, client, state.resolver.pick(), performance.now());
    conn.index = live.length;
    live.push(conn);
    c.active++;
    client[kConn] = conn;
    client.on('error', onClientError);
    client.on('close', onClientClose);
    if (conn.candidates.length === 0) {
      conn.result = Result.no_upstream;
      client.destroy();
      return;
    }
    conn.header = buildProxyHeader(proxyProtocol, {
      sourceAddress: remoteAddress,
      sourcePort: client.remotePort!,
      destinationAddress: localAddress,
      destinationPort: client.localPort!,
    });
    connectUpstream(conn);
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
    async listen() {
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

    async close(drainMs) {
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
