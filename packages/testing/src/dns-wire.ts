// The DNS wire format (RFC 1035 §4), as much as the tests need: encode a query or an answer,
// decode any message with name compression. Owner names and data keep the case they had on
// the wire (RFC 4343: DNS names compare case-insensitively but are carried as sent), so a
// test sees exactly what CoreDNS answered.

const TYPES: Readonly<Record<string, number>> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  ANY: 255,
};
const TYPE_NAMES = new Map(Object.entries(TYPES).map(([name, n]) => [n, name]));
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** A record type by name (`A`, `AAAA`, ...) or number. */
export function dnsType(type: string | number): number {
  if (typeof type === 'number') return type;
  const n = TYPES[type.toUpperCase()] ?? /^TYPE(\d+)$/i.exec(type)?.[1];
  if (n === undefined) throw new Error(`unknown DNS type ${type}`);
  return Number(n);
}

/** The name of a record type (`TYPE99` for one without a name here). */
export function dnsTypeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `TYPE${type}`;
}

/** The name of a response code (`RCODE9` for one without a name here). */
export function rcodeName(rcode: number): string {
  return RCODES[rcode] ?? `RCODE${rcode}`;
}

export interface DnsRecord {
  /** The owner name as sent, with its final dot: `Shop.example.com.` */
  readonly name: string;
  readonly type: string;
  readonly class: number;
  readonly ttl: number;
  /**
   * Presentation form: an address for A/AAAA, a name with its final dot for CNAME/NS/PTR,
   * `mname rname serial refresh retry expire minimum` for SOA, `priority weight port target`
   * for SRV, `preference exchange` for MX, the strings joined by spaces for TXT, and
   * `\# length hex` (RFC 3597) for anything else.
   */
  readonly data: string;
}

export interface DnsMessage {
  readonly id: number;
  readonly rcode: string;
  readonly flags: {
    readonly qr: boolean;
    readonly aa: boolean;
    readonly tc: boolean;
    readonly rd: boolean;
    readonly ra: boolean;
  };
  readonly question: { readonly name: string; readonly type: string; readonly class: number }[];
  readonly answers: DnsRecord[];
  readonly authority: DnsRecord[];
  /** The additional section without the OPT pseudo-record (see `edns`). */
  readonly additional: DnsRecord[];
  /** The OPT pseudo-record (RFC 6891), when the message had one. */
  readonly edns?: { readonly udpSize: number; readonly extendedRcode: number };
}

function encodeName(name: string): Buffer {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  const parts: Buffer[] = [];
  if (trimmed !== '') {
    for (const label of trimmed.split('.')) {
      const bytes = Buffer.from(label, 'utf8');
      if (bytes.length === 0 || bytes.length > 63) throw new Error(`bad DNS label in ${name}`);
      parts.push(Buffer.from([bytes.length]), bytes);
    }
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export interface QueryOptions {
  readonly id?: number;
  /** Recursion desired; true, as a stub resolver sends it. */
  readonly rd?: boolean;
  /** Add an OPT record advertising this UDP payload size (none by default, as glibc and musl send). */
  readonly ednsUdpSize?: number;
}

/** A query for `name` (its case kept as given) and `type`. */
export function encodeQuery(
  name: string,
  type: string | number,
  options: QueryOptions = {},
): Buffer {
  const id = options.id ?? Math.floor(Math.random() * 0x10000);
  const flags = options.rd === false ? 0 : 0x0100;
  const edns = options.ednsUdpSize;
  const header = Buffer.concat([u16(id), u16(flags), u16(1), u16(0), u16(0), u16(edns ? 1 : 0)]);
  const question = Buffer.concat([encodeName(name), u16(dnsType(type)), u16(1)]);
  const opt = edns ? Buffer.concat([Buffer.from([0]), u16(41), u16(edns), u32(0), u16(0)]) : null;
  return Buffer.concat(opt ? [header, question, opt] : [header, question]);
}

export interface AnswerRecord {
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  /** A/AAAA: an address; CNAME/NS/PTR: a name; SOA: `mname rname serial refresh retry expire minimum`. */
  readonly data: string;
}

function encodeIPv6(address: string): Buffer {
  const [head = '', tail] = address.split('::');
  const words = (s: string) => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const h = words(head);
  const t = tail === undefined ? [] : words(tail);
  const all = [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  return Buffer.concat(all.map(u16));
}

function encodeRdata(type: string, data: string): Buffer {
  switch (type) {
    case 'A':
      return Buffer.from(data.split('.').map(Number));
    case 'AAAA':
      return encodeIPv6(data);
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return encodeName(data);
    case 'SOA': {
      const [mname = '', rname = '', ...nums] = data.split(/\s+/);
      return Buffer.concat([
        encodeName(mname),
        encodeName(rname),
        ...nums.map((n) => u32(Number(n))),
      ]);
    }
    default:
      throw new Error(`encoding ${type} records is not supported`);
  }
}

function encodeRecord(r: AnswerRecord): Buffer {
  const rdata = encodeRdata(r.type, r.data);
  return Buffer.concat([
    encodeName(r.name),
    u16(dnsType(r.type)),
    u16(1),
    u32(r.ttl),
    u16(rdata.length),
    rdata,
  ]);
}

/**
 * The answer to `query` (its id, question and RD bit echoed): the given sections, no name
 * compression, RA set. Throws on a message that is not a one-question query.
 */
export function encodeResponse(
  query: Buffer,
  answer: {
    readonly rcode: number;
    readonly aa?: boolean;
    readonly tc?: boolean;
    readonly answers?: readonly AnswerRecord[];
    readonly authority?: readonly AnswerRecord[];
  },
): Buffer {
  const end = questionEnd(query);
  const id = query.readUInt16BE(0);
  const rd = query.readUInt16BE(2) & 0x0100;
  const flags =
    0x8000 | rd | 0x0080 | (answer.aa ? 0x0400 : 0) | (answer.tc ? 0x0200 : 0) | answer.rcode;
  const an = answer.answers ?? [];
  const ns = answer.authority ?? [];
  return Buffer.concat([
    u16(id),
    u16(flags),
    u16(1),
    u16(an.length),
    u16(ns.length),
    u16(0),
    query.subarray(12, end),
    ...an.map(encodeRecord),
    ...ns.map(encodeRecord),
  ]);
}

function questionEnd(message: Buffer): number {
  if (message.length < 12 || message.readUInt16BE(4) !== 1)
    throw new Error('not a one-question query');
  return readName(message, 12).end + 4;
}

function readName(buf: Buffer, start: number): { name: string; end: number } {
  const labels: string[] = [];
  let offset = start;
  let end = -1;
  for (let hops = 0; hops < 128; hops++) {
    const len = buf[offset];
    if (len === undefined) throw new Error('truncated name');
    if (len === 0) {
      if (end < 0) end = offset + 1;
      return { name: labels.length === 0 ? '.' : `${labels.join('.')}.`, end };
    }
    if ((len & 0xc0) === 0xc0) {
      if (end < 0) end = offset + 2;
      offset = buf.readUInt16BE(offset) & 0x3fff;
      continue;
    }
    if (offset + 1 + len > buf.length) throw new Error('truncated label');
    labels.push(buf.toString('utf8', offset + 1, offset + 1 + len));
    offset += 1 + len;
  }
  throw new Error('name compression loop');
}

function formatIPv6(b: Buffer): string {
  const words = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  // RFC 5952 §4.2.3: the longest run of two or more zero words becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function formatRdata(buf: Buffer, type: number, start: number, length: number): string {
  const rdata = buf.subarray(start, start + length);
  switch (dnsTypeName(type)) {
    case 'A':
      if (length === 4) return Array.from(rdata).join('.');
      break;
    case 'AAAA':
      if (length === 16) return formatIPv6(rdata);
      break;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return readName(buf, start).name;
    case 'MX':
      return `${buf.readUInt16BE(start)} ${readName(buf, start + 2).name}`;
    case 'SRV':
      return `${buf.readUInt16BE(start)} ${buf.readUInt16BE(start + 2)} ${buf.readUInt16BE(start + 4)} ${readName(buf, start + 6).name}`;
    case 'SOA': {
      const m = readName(buf, start);
      const r = readName(buf, m.end);
      const nums = Array.from({ length: 5 }, (_, i) => buf.readUInt32BE(r.end + i * 4));
      return [m.name, r.name, ...nums].join(' ');
    }
    case 'TXT': {
      const strings: string[] = [];
      for (let o = 0; o < length;) {
        const n = rdata[o] ?? 0;
        strings.push(rdata.toString('latin1', o + 1, o + 1 + n));
        o += 1 + n;
      }
      return strings.join(' ');
    }
  }
  return `\\# ${length} ${rdata.toString('hex')}`;
}

/** Decodes a whole DNS message; throws on a malformed one. */
export function decodeMessage(buf: Buffer): DnsMessage {
  if (buf.length < 12) throw new Error('DNS message shorter than its header');
  const flags = buf.readUInt16BE(2);
  const counts = [4, 6, 8, 10].map((o) => buf.readUInt16BE(o));
  let offset = 12;
  const question: DnsMessage['question'][number][] = [];
  for (let i = 0; i < (counts[0] ?? 0); i++) {
    const { name, end } = readName(buf, offset);
    question.push({
      name,
      type: dnsTypeName(buf.readUInt16BE(end)),
      class: buf.readUInt16BE(end + 2),
    });
    offset = end + 4;
  }
  let edns: DnsMessage['edns'];
  const section = (count: number): DnsRecord[] => {
    const records: DnsRecord[] = [];
    for (let i = 0; i < count; i++) {
      const { name, end } = readName(buf, offset);
      const type = buf.readUInt16BE(end);
      const cls = buf.readUInt16BE(end + 2);
      const ttl = buf.readUInt32BE(end + 4);
      const length = buf.readUInt16BE(end + 8);
      if (end + 10 + length > buf.length) throw new Error('truncated record');
      if (type === 41) edns = { udpSize: cls, extendedRcode: ttl >>> 24 };
      else
        records.push({
          name,
          type: dnsTypeName(type),
          class: cls,
          ttl,
          data: formatRdata(buf, type, end + 10, length),
        });
      offset = end + 10 + length;
    }
    return records;
  };
  const answers = section(counts[1] ?? 0);
  const authority = section(counts[2] ?? 0);
  const additional = section(counts[3] ?? 0);
  const rcode = (flags & 0x000f) | ((edns?.extendedRcode ?? 0) << 4);
  return {
    id: buf.readUInt16BE(0),
    rcode: rcodeName(rcode),
    flags: {
      qr: (flags & 0x8000) !== 0,
      aa: (flags & 0x0400) !== 0,
      tc: (flags & 0x0200) !== 0,
      rd: (flags & 0x0100) !== 0,
      ra: (flags & 0x0080) !== 0,
    },
    question,
    answers,
    authority,
    additional,
    ...(edns === undefined ? {} : { edns }),
  };
}
