// What the kernel still holds to send on each TCP socket of this network namespace, from
// /proc/net/tcp and /proc/net/tcp6: the idle timeout's second opinion before it cuts a
// connection (connection.ts, sweepConnections).
//
// Node reports a reader's progress only when a write completes, and the kernel wakes a
// blocked writer only once a third of the socket's send buffer is free: with Linux's
// default send buffer of up to 4 MiB, a reader taking 256 KiB/s shows progress every 5 s
// or so, while it reads steadily all along. The kernel's own count of unacknowledged bytes
// (`tx_queue`) falls with every byte the reader takes. Read only for connections whose idle
// deadline is due, so an ordinary pass of the sweep never reads these files.
import { readFileSync } from 'node:fs';

/** Bytes not yet acknowledged by the peer, by `sendQueueKey(localPort, remotePort)`. */
export type SendQueues = ReadonlyMap<number, number>;

export function sendQueueKey(localPort: number, remotePort: number): number {
  return localPort * 65_536 + remotePort;
}

/**
 * Adds the sockets of one /proc/net/tcp or tcp6 table to `into`. Rows are
 * `sl local_address rem_address st tx_queue:rx_queue ...`, addresses `ADDR:PORT` and
 * queues in hex. Two sockets with the same pair of ports (different addresses) are
 * ambiguous: their key gets NaN, which compares as no progress and no information.
 */
export function parseTcpTable(text: string, into: Map<number, number>): void {
  let at = text.indexOf('\n') + 1; // the header line
  while (at > 0 && at < text.length) {
    const end = text.indexOf('\n', at);
    const line = text.slice(at, end === -1 ? text.length : end);
    at = end + 1;
    const f = line.trim().split(/\s+/);
    const local = f[1];
    const remote = f[2];
    const queues = f[4];
    if (local === undefined || remote === undefined || queues === undefined) continue;
    const key = sendQueueKey(
      parseInt(local.slice(local.lastIndexOf(':') + 1), 16),
      parseInt(remote.slice(remote.lastIndexOf(':') + 1), 16),
    );
    const tx = parseInt(queues.slice(0, queues.indexOf(':')), 16);
    if (Number.isNaN(key) || Number.isNaN(tx)) continue;
    into.set(key, into.has(key) ? NaN : tx);
  }
}

/** The send queues of every TCP socket here; empty when /proc is not readable. */
export function readSendQueues(
  files: readonly string[] = ['/proc/net/tcp', '/proc/net/tcp6'],
): SendQueues {
  const out = new Map<number, number>();
  for (const file of files) {
    try {
      parseTcpTable(readFileSync(file, 'latin1'), out);
    } catch {
      // No /proc (or no IPv6): the sweep goes by Node's own signals alone.
    }
  }
  return out;
}
