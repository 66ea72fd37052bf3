// A tiny authoritative DNS server standing in for the internet behind CoreDNS's `forward`:
// fixed A/AAAA records for a few public names, NXDOMAIN (with an SOA, as a real zone sends)
// for everything else. UDP and TCP on the same loopback port (node-local-dns forwards with
// `force_tcp`). Answers longer than 512 bytes (or the query's EDNS size) are truncated over
// UDP, so clients fall back to TCP as they would on the internet.
import { type Socket } from 'node:net';
import { listenDnsPort } from './dns-port.ts';
import { decodeMessage, encodeResponse, type AnswerRecord } from './dns-wire.ts';

export interface StubRecords {
  readonly A?: readonly string[];
  readonly AAAA?: readonly string[];
}

/** The stub's default names (documentation addresses, RFC 5737 / RFC 3849). */
export const STUB_UPSTREAM_RECORDS: Readonly<Record<string, StubRecords>> = {
  'shop.example.com': { A: ['192.0.2.10'], AAAA: ['2001:db8::10'] },
  'api.example.com': { A: ['192.0.2.11'] },
  'www.example.org': { A: ['192.0.2.12'] },
  'shop.example.net': { A: ['192.0.2.13'] },
  // 40 addresses: 16 + 40 x 16 bytes, more than fits a 512-byte UDP answer.
  'big.example.com': { A: Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 1}`) },
};

/** The TTL of the stub's records; NXDOMAIN and NODATA answers carry an SOA whose minimum is 30. */
export const STUB_UPSTREAM_TTL = 300;

export interface StubQuery {
  readonly name: string;
  readonly type: string;
  readonly transport: 'udp' | 'tcp';
}

export interface StubUpstream {
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:PORT`, as a `forward` target. */
  readonly address: string;
  /** Every query received, in order (name as sent). */
  readonly received: StubQuery[];
  stop(): Promise<void>;
}

function soa(qname: string): AnswerRecord {
  const zone = qname.replace(/\.$/, '').split('.').slice(-2).join('.').toLowerCase();
  if (zone === '')
    return {
      name: '.',
      type: 'SOA',
      ttl: 30,
      data: 'ns.invalid. hostmaster.invalid. 1 3600 600 86400 30',
    };
  return {
    name: `${zone}.`,
    type: 'SOA',
    ttl: 30,
    data: `ns.${zone}. hostmaster.${zone}. 1 3600 600 86400 30`,
  };
}

function answer(
  query: Buffer,
  records: Readonly<Record<string, StubRecords>>,
  transport: 'udp' | 'tcp',
  received: StubQuery[],
): Buffer | null {
  let message;
  try {
    message = decodeMessage(query);
  } catch {
    return null;
  }
  const q = message.question[0];
  if (message.flags.qr || q === undefined) return null;
  received.push({ name: q.name, type: q.type, transport });
  const key = q.name.replace(/\.$/, '').toLowerCase();
  const entry = Object.hasOwn(records, key) ? records[key] : undefined;
  if (entry === undefined)
    return encodeResponse(query, { rcode: 3, aa: true, authority: [soa(q.name)] });
  const data = q.type === 'A' || q.type === 'AAAA' ? (entry[q.type] ?? []) : [];
  const answers = data.map((d) => ({
    name: q.name,
    type: q.type,
    ttl: STUB_UPSTREAM_TTL,
    data: d,
  }));
  const full = encodeResponse(query, {
    rcode: 0,
    aa: true,
    answers,
    ...(answers.length === 0 ? { authority: [soa(q.name)] } : {}),
  });
  const limit = Math.max(512, message.edns?.udpSize ?? 0);
  if (transport === 'udp' && full.length > limit)
    return encodeResponse(query, { rcode: 0, aa: true, tc: true });
  return full;
}

/** Starts the stub on 127.0.0.1 (a free port, UDP and TCP). */
export async function startStubUpstream(
  options: { readonly records?: Readonly<Record<string, StubRecords>> } = {},
): Promise<StubUpstream> {
  const records = Object.fromEntries(
    Object.entries(options.records ?? STUB_UPSTREAM_RECORDS).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const received: StubQuery[] = [];
  const { udp, tcp, port } = await listenDnsPort();
  udp.on('message', (msg, rinfo) => {
    const reply = answer(msg, records, 'udp', received);
    if (reply) udp.send(reply, rinfo.port, rinfo.address);
  });
  const sockets = new Set<Socket>();
  tcp.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      // RFC 1035 §4.2.2: two-byte length, then the message; several per connection.
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const msg = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + msg.length);
        const reply = answer(msg, records, 'tcp', received);
        if (!reply) continue;
        const length = Buffer.alloc(2);
        length.writeUInt16BE(reply.length);
        socket.write(Buffer.concat([length, reply]));
      }
    });
  });
  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    received,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([
        new Promise<void>((r) => udp.close(() => r())),
        new Promise<void>((r) => tcp.close(() => r())),
      ]);
    },
  };
}
