// How hairpin's hosts are written in a Corefile: the text of the managed lines, and how to
// read hosts back out of them. The editor (./corefile.ts) decides where they go.
//
// The encoding was chosen by measurement in a real CoreDNS (docs/corefile-editing.md,
// "Why a hosts block"): the cost of a query that misses the cache must not grow with the
// number of hosts, and each host must cost few bytes of the 1 MiB ConfigMap.
// - Exact names: entries of one `hosts` block (a hash lookup), answering the relay Service's
//   ClusterIP(s) directly, so the answer needs no other plugin of the block (node-local-dns's
//   `.:53` block can resolve nothing else of the cluster). Many names share one line.
// - Wildcards: one `template` per address family whose single regex covers every wildcard.
// - `ttl 30` and answers with TTL 30; `no_reverse` (the relay's PTR stays the cluster's);
//   `fallthrough` (every other name goes on as before); the file `/dev/null`, because a
//   `hosts` block without a file reads the CoreDNS pod's own /etc/hosts.
import { isIP } from 'node:net';
import { ErrorCodes, HairpinError } from './errors.ts';
import { MANAGED_MARKER } from './markers.ts';

/** TTL of every answer for a managed name, in seconds. */
export const MANAGED_TTL = 30;
/** The file our own `hosts` block reads: none (a block without a file reads /etc/hosts). */
export const NO_HOSTS_FILE = '/dev/null';
/**
 * Longest entry line, indentation excluded. CoreDNS's hosts plugin reads inline entries
 * with a bufio.Scanner (64 KiB per line); shorter lines stay readable in a diff and cost
 * about one byte per host for the address and the marker.
 */
const MAX_ENTRY_LINE = 1000;

export interface RelayAddresses {
  readonly v4: string | undefined;
  readonly v6: string | undefined;
}

/** The relay Service's ClusterIPs, at most one per family. */
export function relayAddresses(ips: readonly string[]): RelayAddresses {
  let v4: string | undefined;
  let v6: string | undefined;
  for (const ip of ips) {
    const family = isIP(ip);
    if (family === 0) {
      throw new HairpinError(
        ErrorCodes.INVALID_TARGET,
        `relay IP ${JSON.stringify(ip)} is not an IP address`,
      );
    }
    const slot = family === 4 ? v4 : v6;
    if (slot !== undefined && slot !== ip) {
      throw new HairpinError(
        ErrorCodes.INVALID_TARGET,
        `relay IPs ${slot} and ${ip} are of the same family: a Service has one ClusterIP per family`,
      );
    }
    if (family === 4) v4 = ip;
    else v6 = ip.toLowerCase();
  }
  if (v4 === undefined && v6 === undefined) {
    throw new HairpinError(
      ErrorCodes.INVALID_TARGET,
      "the relay Service's ClusterIP is needed to write hosts (--relay-ip)",
    );
  }
  return { v4, v6 };
}

/** A line of hairpin's: the text, then the marker. */
export const marked = (text: string): string => `${text} ${MANAGED_MARKER}`;

/** `IP name name ...` lines, each at most MAX_ENTRY_LINE long, for sorted exact names. */
export function entryLines(ip: string, names: readonly string[]): string[] {
  const lines: string[] = [];
  // One join per line, marker included (20,000 names appended one by one made a string
  // per name; a join and then the marker, two copies of each line).
  for (let first = 0; first < names.length;) {
    let length = ip.length + 1 + names[first]!.length;
    let end = first + 1;
    while (end < names.length && length + 1 + names[end]!.length <= MAX_ENTRY_LINE) {
      length += 1 + names[end]!.length;
      end++;
    }
    const words = names.slice(first, end);
    words.unshift(ip);
    words.push(MANAGED_MARKER);
    lines.push(words.join(' '));
    first = end;
  }
  return lines;
}

/** The entry lines for both families, v4 first. */
export function allEntryLines(relay: RelayAddresses, names: readonly string[]): string[] {
  return [
    ...(relay.v4 === undefined ? [] : entryLines(relay.v4, names)),
    ...(relay.v6 === undefined ? [] : entryLines(relay.v6, names)),
  ];
}

/** A directive with a block, as lines relative to the directive's own indentation. */
export interface BlockLines {
  readonly open: string;
  readonly body: readonly string[];
  readonly close: string;
}

/** Our own `hosts` block, for a server block that has none. */
export function hostsBlock(relay: RelayAddresses, names: readonly string[]): BlockLines {
  return {
    open: marked(`hosts ${NO_HOSTS_FILE} {`),
    body: [
      ...allEntryLines(relay, names),
      marked(`ttl ${MANAGED_TTL}`),
      marked('no_reverse'),
      marked('fallthrough'),
    ],
    close: marked('}'),
  };
}

/**
 * The regex for a set of wildcard hosts: exactly one more label, as an Ingress wildcard
 * means (`*.example.com` matches `a.example.com`, not `example.com` nor `a.b.example.com`).
 * CoreDNS matches it against the lower-cased, fully qualified query name.
 */
export function wildcardsRegex(wildcards: readonly string[]): string {
  const bases = wildcards.map((w) => w.slice(2).replaceAll('.', '\\.'));
  return `^[^.]+\\.(?:${bases.join('|')})\\.$`;
}

const WILDCARDS_REGEX = /^\^\[\^\.\]\+\\\.\(\?:((?:[a-z0-9-]+(?:\\\.[a-z0-9-]+)*\|?)+)\)\\\.\$$/;

/** The wildcard hosts a regex of ours stands for; undefined: not of our form. */
export function wildcardsOfRegex(regex: string): string[] | undefined {
  const m = WILDCARDS_REGEX.exec(regex);
  if (m === null) return undefined;
  return m[1]!.split('|').map((base) => `*.${base.replaceAll('\\.', '.')}`);
}

/**
 * A `template` for one family: the relay's address for that family, or, where the relay has
 * none, an empty NOERROR (a client must not fall back to the public address of the other
 * family, which would bypass the relay).
 */
function family(
  type: 'A' | 'AAAA',
  ip: string | undefined,
  matches: readonly string[],
): BlockLines {
  return {
    open: marked(`template IN ${type} {`),
    body: [
      ...matches,
      marked(
        ip === undefined ? 'rcode NOERROR' : `answer "{{ .Name }} ${MANAGED_TTL} IN ${type} ${ip}"`,
      ),
      marked('fallthrough'),
    ],
    close: marked('}'),
  };
}

export function splitHosts(hosts: readonly string[]): { exact: string[]; wildcards: string[] } {
  const exact: string[] = [];
  const wildcards: string[] = [];
  for (let i = 0; i < hosts.length; i++) {
    const h = hosts[i]!;
    (h.startsWith('*.') ? wildcards : exact).push(h);
  }
  return { exact, wildcards };
}

/** Lines of a block directive at `indent`, the body one `step` deeper. */
export function indentBlock(block: BlockLines, indent: string, step: string): string[] {
  return [
    `${indent}${block.open}`,
    ...block.body.map((l) => `${indent}${step}${l}`),
    `${indent}${block.close}`,
  ];
}

/**
 * The regex for a set of exact names (import mode, where no `hosts` can be added): one
 * alternation of escaped literals, which Go's regexp compiles to a prefix-factored,
 * one-pass automaton, so a name that is not managed fails after a few characters.
 */
export function exactsRegex(names: readonly string[]): string {
  return `^(?:${names.map((n) => n.replaceAll('.', '\\.')).join('|')})\\.$`;
}

const EXACTS_REGEX = /^\^\(\?:((?:[a-z0-9-]+(?:\\\.[a-z0-9-]+)*\|?)+)\)\\\.\$$/;

/** The exact hosts a regex of ours stands for; undefined: not of our form. */
export function exactsOfRegex(regex: string): string[] | undefined {
  const m = EXACTS_REGEX.exec(regex);
  if (m === null) return undefined;
  return m[1]!.split('|').map((name) => name.replaceAll('\\.', '.'));
}

/**
 * One `template` per address family, matching the exact names with one regex and the
 * wildcards with another. Wildcards always go here; exact names only where no `hosts` of
 * ours can go (a block with the owner's `hosts`: CoreDNS allows one per block; import mode,
 * whose key lands in k3s's root block, which has one).
 */
export function hostTemplates(relay: RelayAddresses, hosts: readonly string[]): BlockLines[] {
  const { exact, wildcards } = splitHosts(hosts);
  if (exact.length === 0 && wildcards.length === 0) return [];
  const matches = [
    ...(exact.length === 0 ? [] : [marked(`match ${exactsRegex(exact)}`)]),
    ...(wildcards.length === 0 ? [] : [marked(`match ${wildcardsRegex(wildcards)}`)]),
  ];
  return [family('A', relay.v4, matches), family('AAAA', relay.v6, matches)];
}
