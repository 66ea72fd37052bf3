// A raw DNS client for tests: one query, the answer exactly as the server sent it (rcode,
// TTLs, owner names and their case), which node:dns hides. UDP first, TCP when the answer
// is truncated (RFC 1035 §4.2.1: UDP messages are limited to 512 bytes without EDNS), or TCP
// only when asked.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { decodeMessage, encodeQuery, type DnsMessage, type QueryOptions } from './dns-wire.ts';

export interface DnsServerAddress {
  readonly host?: string;
  readonly port: number;
}

export interface DnsQueryOptions extends QueryOptions {
  /** `udp` (default; TCP on a truncated answer) or `tcp` only. */
  readonly transport?: 'udp' | 'tcp';
  /** Per attempt; default 2000 ms. */
  readonly timeoutMs?: number;
  /** UDP sends before giving up; default 2. */
  readonly attempts?: number;
}

export interface DnsAnswer extends DnsMessage {
  readonly transport: 'udp' | 'tcp';
}

function udpExchange(
  server: DnsServerAddress,
  query: Buffer,
  timeoutMs: number,
): Promise<Buffer | null> {
  const host = server.host ?? '127.0.0.1';
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const id = query.readUInt16BE(0);
  return new Promise<Buffer | null>((resolve, reject) => {
    const timer = setTimeout(() => finish(null), timeoutMs);
    const finish = (result: Buffer | null, err?: Error) => {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(result);
    };
    socket.on('message', (msg) => {
      if (msg.length >= 2 && msg.readUInt16BE(0) === id) finish(msg);
    });
    socket.on('error', (err) => finish(null, err));
    socket.send(query, server.port, host);
  });
}

function tcpExchange(server: DnsServerAddress, query: Buffer, timeoutMs: number): Promise<Buffer> {
  const host = server.host ?? '127.0.0.1';
  return new Promise<Buffer>((resolve, reject) => {
    const socket = connect({ host, port: server.port });
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TCP answer from ${host}:${server.port} in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => {
      // RFC 1035 §4.2.2: over TCP each message is preceded by its two-byte length.
      const length = Buffer.alloc(2);
      length.writeUInt16BE(query.length);
      socket.write(Buffer.concat([length, query]));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(received.subarray(2, 2 + received.readUInt16BE(0)));
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`TCP connection to ${host}:${server.port} closed before an answer`));
    });
  });
}

/** Sends one query for `name` (case kept) and `type`; rejects when no answer comes in time. */
export async function queryDns(
  server: DnsServerAddress,
  name: string,
  type: string | number = 'A',
  options: DnsQueryOptions = {},
): Promise<DnsAnswer> {
  const query = encodeQuery(name, type, options);
  const timeoutMs = options.timeoutMs ?? 2000;
  if (options.transport !== 'tcp') {
    const attempts = options.attempts ?? 2;
    let truncated = false;
    for (let i = 0; i < attempts && !truncated; i++) {
      const raw = await udpExchange(server, query, timeoutMs);
      if (raw === null) continue;
      const message = decodeMessage(raw);
      if (!message.flags.tc) return { ...message, transport: 'udp' };
      truncated = true;
    }
    if (!truncated) {
      const where = `${server.host ?? '127.0.0.1'}:${server.port}`;
      throw new Error(
        `no UDP answer from ${where} for ${name} ${type} (${attempts} x ${timeoutMs} ms)`,
      );
    }
  }
  const raw = await tcpExchange(server, query, timeoutMs);
  return { ...decodeMessage(raw), transport: 'tcp' };
}
