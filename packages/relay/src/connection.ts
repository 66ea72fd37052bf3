// One relayed connection: connect upstream, write the PROXY header first, then move bytes
// both ways untouched. relay.ts owns the listeners and the relay's lifecycle.
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
//   Writes to the ingress are corked and leave together when the loop turn's reads are
//   done (the check phase, right after the poll phase), as HAProxy sends after its reads:
//   each write wakes the ingress, and an ingress sharing the relay's core then preempted
//   the relay once every 1.6 requests; batched, once every 3 (docs/relay.md, "Benchmark").
// - The PROXY header is corked on connect and leaves in one write with the client's first
//   bytes (the batch above), or alone two loop turns after connect for protocols where the
//   server speaks first.
// - Connect and idle timeouts come from one sweep over the live connections, not from a
//   timer per socket re-armed on every read and write.
// - Live connections sit in an array with swap-remove: a Set's add/delete churn promoted
//   whole connection graphs to the old generation (scavenges of 7-13 ms).
// - Metrics are plain numbers (metrics.ts), turned into series when scraped.
//
// Half-close: both sockets are created with allowHalfOpen, so a client's FIN is passed on
// as a FIN to the ingress and the reply still flows back; a socket is closed only when both
// of its directions are done. An error on either side destroys both.
import { connect, type Server, type Socket } from 'node:net';
import { Result, RESULTS, type ConnectionResult, type RouteCounters } from './metrics.ts';
import { buildProxyHeader } from './proxy-header.ts';
import type { Route } from './config.ts';
import type { RelayOptions } from './relay.ts';
import type { TargetResolver } from './resolver.ts';

export interface RouteState {
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
  /** The upstream is corked by the relay (header, or this turn's batch). */
  corked = false;
  /** In Core.batch: uncorked at this loop turn's check phase. */
  batched = false;
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
export interface Core {
  readonly options: RelayOptions;
  readonly debug: boolean;
  readonly live: Connection[];
  forced: boolean;
  /** Connections whose client sent bytes this loop turn: uncorked at its check phase. */
  batch: Connection[];
  /** Connections corked on connect this loop turn, and those to uncork at the next check phase. */
  uncorkNow: Connection[];
  uncorkNext: Connection[];
  uncorkScheduled: boolean;
}

// Upstream reads land in one buffer shared by every connection of this process; the
// callback copies out what it reads before returning, so no read ever sees another's
// bytes. A large read (a bulk transfer) instead moves its connection to a buffer of its own,
// written as it is without a copy: 30% of the relay's CPU on a bulk transfer went to
// copying and to the page faults of fresh right-sized buffers. Node asks `nextReadBuffer`
// for the buffer of a socket's next read right after each read callback of that socket
// (checked on Node 20, 24 and 26); if it asked at any other time it would only ever get
// the shared buffer, and every read would be copied.
const READ_SIZE = 64 * 1024;
const SHARED_READ_BUFFER = Buffer.allocUnsafe(READ_SIZE);
/** Reads at least this large (one bulk-sized read) get a buffer of their own. */
const OWN_BUFFER_READ = 16 * 1024;
/** Set by the read callback for the socket it ran for, consumed by nextReadBuffer. */
let nextBuffer: Buffer = SHARED_READ_BUFFER;
function nextReadBuffer(): Buffer {
  const b = nextBuffer;
  nextBuffer = SHARED_READ_BUFFER;
  return b;
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

function setResult(conn: Connection, result: number): void {
  if (conn.result === -1) conn.result = result;
}

// --- client socket handlers (`this` is the client) ---

function onClientData(this: RelaySocket, chunk: Buffer): void {
  const conn = this[kConn];
  conn.idleMs = 0;
  const up = conn.upstream!;
  if (!conn.batched) {
    if (!conn.corked) {
      up.cork();
      conn.corked = true;
    }
    conn.batched = true;
    conn.core.batch.push(conn);
    scheduleUncorks(conn.core);
  }
  if (!up.write(chunk)) this.pause();
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
  if (nread < OWN_BUFFER_READ) {
    // Back to the shared buffer (an own buffer is dropped once its write is done).
    const out = Buffer.allocUnsafe(nread);
    buf.copy(out, 0, 0, nread);
    client.write(out);
  } else if (buf === SHARED_READ_BUFFER) {
    // The first large read: copied (the shared buffer must be free again on return);
    // the next read of this socket goes into a buffer of its own.
    const out = Buffer.allocUnsafe(nread);
    buf.copy(out, 0, 0, nread);
    client.write(out);
    nextBuffer = Buffer.allocUnsafe(READ_SIZE);
  } else {
    // The socket's own buffer, written without a copy. Still queued after write() (the
    // write did not complete at once), it is the write's until then: a fresh one for the
    // next read; otherwise the same one again.
    client.write(buf.subarray(0, nread));
    nextBuffer = client.writableLength > 0 ? Buffer.allocUnsafe(READ_SIZE) : buf;
  }
  // Reading stops while the client's queue is at its high-water mark ('drain' resumes it),
  // not on every write() that returns false: a large chunk always does, even when it left
  // at once, and stopping and restarting the read then cost a syscall pair per chunk.
  return client.writableLength < client.writableHighWaterMark;
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
  scheduleUncorks(core);
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

function scheduleUncorks(core: Core): void {
  if (!core.uncorkScheduled) {
    core.uncorkScheduled = true;
    setImmediate(flushUncorks, core);
  }
}

function uncork(conn: Connection): void {
  if (conn.corked) {
    conn.corked = false;
    conn.upstream!.uncork();
  }
}

function flushUncorks(core: Core): void {
  core.uncorkScheduled = false;
  const batch = core.batch;
  for (let i = 0; i < batch.length; i++) {
    batch[i]!.batched = false;
    uncork(batch[i]!);
  }
  batch.length = 0;
  for (const conn of core.uncorkNext) uncork(conn);
  const done = core.uncorkNext;
  done.length = 0;
  core.uncorkNext = core.uncorkNow;
  core.uncorkNow = done;
  if (core.uncorkNext.length > 0) scheduleUncorks(core);
}

function connectUpstream(conn: Connection): void {
  const { state } = conn;
  const up = connect({
    host: conn.candidates[conn.attempt]!,
    port: state.route.targetPort,
    allowHalfOpen: true,
    // As HAProxy sets TCP_NODELAY: small writes leave at once.
    noDelay: true,
    onread: { buffer: nextReadBuffer, callback: onUpstreamRead },
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
export function reset(conn: Connection): void {
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

/**
 * One pass of the sweep that replaces per-socket timers: connects that took too long fail,
 * connections idle for idleTimeoutMs end. `tick` is the time since the last pass.
 */
export function sweepConnections(core: Core, tick: number): void {
  const { connectTimeoutMs, idleTimeoutMs } = core.options;
  const live = core.live;
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

/** Takes an accepted client (within the limit): header, then the upstream connect. */
export function relayConnection(core: Core, state: RouteState, socket: Socket): void {
  const client = socket as RelaySocket;
  const c = state.counters;
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
  conn.index = core.live.length;
  core.live.push(conn);
  c.active++;
  client[kConn] = conn;
  client.on('error', onClientError);
  client.on('close', onClientClose);
  if (conn.candidates.length === 0) {
    conn.result = Result.no_upstream;
    client.destroy();
    return;
  }
  conn.header = buildProxyHeader(core.options.proxyProtocol, {
    sourceAddress: remoteAddress,
    sourcePort: client.remotePort!,
    destinationAddress: localAddress,
    destinationPort: client.localPort!,
  });
  connectUpstream(conn);
}
