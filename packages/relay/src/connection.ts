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
//   timer per socket re-armed on every read and write. Progress either way (a read, or a
//   write queue the kernel drained) stamps the connection with performance.now(), so a
//   timeout is measured from the last progress: never early, at most one sweep late.
// - Live connections sit in an array with swap-remove: a Set's add/delete churn promoted
//   whole connection graphs to the old generation (scavenges of 7-13 ms).
// - Metrics are plain numbers (metrics.ts), turned into series when scraped.
//
// Half-close: both sockets are created with allowHalfOpen, so a client's FIN is passed on
// as a FIN to the ingress and the reply still flows back; a socket is closed only when both
// of its directions are done.
//
// Closing: a socket closes on its own once it has read its peer's FIN and its own writes
// (then its FIN) have been handed to the kernel. When one side closes that way, the other
// side's writing is ended with end(), which takes effect after its queue drains: nothing
// queued is thrown away. Only an error, a timeout or the drain deadline destroys a side
// with bytes still queued, and then with a TCP reset, so that neither peer can take a cut
// transfer for a complete one. A connection is finished when both of its sockets closed.
import { connect, type Server, type Socket } from 'node:net';
import { Result, RESULTS, type ConnectionResult, type RouteCounters } from './metrics.ts';
import { buildProxyHeader } from './proxy-header.ts';
import type { Route } from './config.ts';
import type { RelayOptions } from './relay.ts';
import type { TargetResolver } from './resolver.ts';
import { readSendQueues, sendQueueKey, type SendQueues } from './send-queues.ts';

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
  /** performance.now() of the last progress either way: bytes read, or a write queue drained. */
  activeAt = 0;
  /** Sockets of this connection (the client, every upstream attempt) not closed yet. */
  open = 1;
  /**
   * Bytes queued both ways and not yet acknowledged (send-queues.ts), taken by the sweep
   * once the connection has been idle for half the timeout; -1 when not taken, NaN when
   * the kernel's count was not found.
   */
  queued = -1;
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
  /** The sweep's connections at their idle deadline (kept to reuse the array). */
  readonly due: Connection[];
  /** performance.now() of the sweep's last pass; 0 before the first. */
  sweptAt: number;
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
  const up = conn.upstream!;
  // The first chunk of a loop turn puts the connection in the batch, whose flush later in
  // the same turn stamps it active (one clock read per turn, not one per chunk).
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
  conn.activeAt = performance.now();
  conn.corked = false;
  conn.upstream!.end(); // end() uncorks too
}

/** The kernel took the client's whole write queue: progress, even if nothing was read. */
function onClientDrain(this: RelaySocket): void {
  const conn = this[kConn];
  conn.activeAt = performance.now();
  conn.upstream?.resume();
}

function onClientError(this: RelaySocket, err: Error): void {
  const conn = this[kConn];
  setResult(conn, Result.client_error);
  if (conn.core.debug)
    conn.core.options.log.debug({ err, route: conn.state.route.name }, 'client error');
}

function onClientClose(this: RelaySocket): void {
  const conn = this[kConn];
  const up = conn.upstream;
  if (up !== null && !up.destroyed) closePeer(this, up);
  if (--conn.open === 0) finish(conn);
}

// --- upstream socket handlers (`this` is the upstream) ---

function onUpstreamRead(this: RelaySocket, nread: number, buf: Buffer): boolean {
  const conn = this[kConn];
  conn.activeAt = performance.now();
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
  const conn = this[kConn];
  conn.activeAt = performance.now();
  conn.client.end();
}

/** The kernel took the upstream's whole write queue: progress, even if nothing was read. */
function onUpstreamDrain(this: RelaySocket): void {
  const conn = this[kConn];
  conn.activeAt = performance.now();
  conn.client.resume();
}

function onUpstreamClose(this: RelaySocket): void {
  const conn = this[kConn];
  // An attempt that failed and was replaced says nothing about the client.
  if (conn.upstream === this && !conn.client.destroyed) closePeer(this, conn.client);
  if (--conn.open === 0) finish(conn);
}

/**
 * One side of a connection closed; its peer is still open. A normal close (the side read its
 * peer's FIN and its own writes all reached the kernel) ends the peer's writing with end(),
 * after whatever the peer still has queued: the peer closes on its own once that has left.
 * Any other close (an error, a reset, a destroy) resets the peer, so that a cut transfer
 * looks cut.
 */
function closePeer(closed: RelaySocket, peer: RelaySocket): void {
  if (closed.readableEnded && closed.writableFinished && closed.errored === null) peer.end();
  else if (peer.connecting) peer.destroy();
  else peer.resetAndDestroy();
}

function onUpstreamConnect(this: RelaySocket): void {
  const conn = this[kConn];
  if (conn.upstream !== this) return;
  const { core, client } = conn;
  const now = performance.now();
  core.options.metrics.upstreamConnect.observe((now - conn.connectStarted) / 1000);
  conn.connectStarted = 0;
  conn.activeAt = now;
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
  // The upstream's close (after this event) resets the client.
  setResult(conn, Result.upstream_error);
  if (conn.core.debug)
    conn.core.options.log.debug({ err, route: conn.state.route.name }, 'upstream error');
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
  // The batch is the connections whose client sent bytes this loop turn: stamped active
  // now, a little after the read, so an idle timeout can only come later, never earlier.
  const now = batch.length > 0 ? performance.now() : 0;
  for (let i = 0; i < batch.length; i++) {
    const conn = batch[i]!;
    conn.activeAt = now;
    conn.batched = false;
    uncork(conn);
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
  conn.open++;
  conn.connectStarted = performance.now();
  up.on('connect', onUpstreamConnect);
  up.on('error', onUpstreamError);
  up.on('end', onUpstreamEnd);
  up.on('drain', onUpstreamDrain);
  up.on('close', onUpstreamClose);
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

/** What a connection has queued and not yet seen acknowledged, both ways; NaN if unknown. */
function queuedBytes(conn: Connection, queues: SendQueues): number {
  const { client, upstream } = conn;
  const up = upstream!;
  const kernel =
    (queues.get(sendQueueKey(client.localPort!, client.remotePort!)) ?? NaN) +
    (queues.get(sendQueueKey(up.localPort!, up.remotePort!)) ?? NaN);
  return client.writableLength + up.writableLength + kernel;
}

/**
 * One pass of the sweep that replaces per-socket timers: connects that took too long fail,
 * connections without progress for idleTimeoutMs end. Both are measured from timestamps,
 * so a timeout never fires before its time, and at most one pass (`tick` apart) after it.
 *
 * Before it cuts a connection that carried bytes, the sweep asks the kernel (send-queues.ts):
 * a reader that takes bytes slowly out of large socket buffers makes no write complete for
 * seconds, but the bytes waiting for its acknowledgement go down. Their count is taken at
 * half the timeout and again at the deadline; fewer is progress, stamped at the deadline.
 * A pass-to-pass comparison was too short: the receiver reopens its window in steps, and a
 * reader taking 768 KiB/s left the count unchanged for 250 ms at a time. So a reader that
 * drains only the kernel's buffers is cut between one and one and a half timeouts after
 * its last byte; one that reads, or whose writes complete, as before.
 *
 * A pass that comes more than two periods after the one before found the event loop blocked
 * (a long GC pause, a starved CPU): reads, drains and connects may be waiting in the kernel
 * for the poll phase that follows this timer. Such a pass cuts nothing and only takes the
 * kernel's counts; the next one, a period later, decides on what the poll phase delivered.
 */
export function sweepConnections(core: Core, tick: number): void {
  const { connectTimeoutMs, idleTimeoutMs } = core.options;
  const live = core.live;
  const now = performance.now();
  const late = core.sweptAt !== 0 && now - core.sweptAt > 2 * tick;
  core.sweptAt = now;
  const due = core.due;
  for (let i = 0; i < live.length; i++) {
    const conn = live[i]!;
    // Already ending (an error, or connectFailed below): its sockets are being destroyed.
    if (conn.result !== -1) continue;
    if (conn.connectStarted !== 0) {
      if (!late && now - conn.connectStarted >= connectTimeoutMs) {
        const err: NodeJS.ErrnoException = new Error(
          `connect timeout after ${connectTimeoutMs} ms`,
        );
        err.code = 'ETIMEDOUT';
        connectFailed(conn, err);
      }
      continue;
    }
    if (conn.upstream === null) continue;
    const idle = now - conn.activeAt;
    if (idle < idleTimeoutMs / 2) {
      conn.queued = -1;
    } else if (conn.client.bytesRead + conn.client.bytesWritten === 0) {
      // A connection that never carried a byte has nothing to truncate: a plain close.
      if (!late && idle >= idleTimeoutMs) {
        setResult(conn, Result.idle_timeout);
        conn.upstream.destroy();
        conn.client.destroy();
      }
    } else if (conn.queued === -1 || idle >= idleTimeoutMs) {
      due.push(conn); // its first count, at half the timeout, or the deadline's
    }
  }
  if (due.length === 0) return;
  const queues = core.options.readSendQueues?.() ?? readSendQueues();
  for (const conn of due) {
    const queued = queuedBytes(conn, queues);
    if (queued < conn.queued) {
      // The peer took bytes since the count at half the timeout: progress, stamped now,
      // the latest it can have been (so never early; up to half a timeout late).
      conn.activeAt = now;
      conn.queued = -1;
      continue;
    }
    conn.queued = queued; // NaN (unknown) compares as no progress
    if (!late && now - conn.activeAt >= idleTimeoutMs) {
      // It may be cut mid-transfer, which must not look like a complete one.
      setResult(conn, Result.idle_timeout);
      reset(conn);
    }
  }
  due.length = 0;
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
