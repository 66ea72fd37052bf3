// Lossless editing of hosts files (the ownership markers are a stable contract: docs/hostnames-and-hosts-file.md).
//
// hairpin owns whole lines that end in its marker, all at the end of the file:
//   10.96.0.50 shop.example.com api.example.com # managed by hairpin
// Every other byte comes back unchanged. Lines stay under 512 bytes (musl's resolver
// reads hosts files in 512-byte lines and would cut a longer one), so many hosts make
// several lines. Wildcards cannot be expressed in a hosts file and are skipped.
//
// The text is the file's bytes as file-bytes.ts decodes them (bytes that are not UTF-8
// stay what they are); hairpin's own lines are ASCII. A file without a final newline gets
// one before hairpin's lines, and a managed line saying so (ADDED_LINE_BREAK), so that
// removing the hosts gives back the original bytes exactly.
import { isIP } from 'node:net';
import { checkHostnameSyntax } from './hostname.ts';
import { ErrorCodes, HairpinError } from './errors.ts';
import { ADDED_LINE_BREAK, LEGACY_MARKER, MANAGED_MARKER } from './markers.ts';

/** musl's fgets buffer for /etc/hosts: a line, its ending included, must fit. */
export const MAX_HOSTS_LINE_BYTES = 512;

interface Line {
  readonly text: string;
  readonly eol: string;
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  const re = /\r?\n/g;
  let start = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    lines.push({ text: text.slice(start, m.index), eol: m[0] });
    start = m.index + m[0].length;
  }
  if (start < text.length) lines.push({ text: text.slice(start), eol: '' });
  return lines;
}

function isOwned(line: string): boolean {
  const trimmed = line.trimEnd();
  return trimmed.endsWith(MANAGED_MARKER) || trimmed.endsWith(LEGACY_MARKER);
}

/** The managed lines for these hosts, each under the byte limit with `eol`. */
export function managedHostsLines(ip: string, hosts: readonly string[], eol: string): string[] {
  const suffix = ` ${MANAGED_MARKER}${eol}`;
  const lines: string[] = [];
  let current = ip;
  for (const host of hosts) {
    const candidate = `${current} ${host}`;
    if (current !== ip && Buffer.byteLength(candidate + suffix) > MAX_HOSTS_LINE_BYTES) {
      lines.push(current + suffix);
      current = `${ip} ${host}`;
    } else {
      current = candidate;
    }
  }
  if (current !== ip) lines.push(current + suffix);
  return lines;
}

/**
 * Returns the hosts file with the managed lines (`IP host... # managed by hairpin`, each
 * under 512 bytes) at the end, legacy hairpin-proxy lines removed and every other byte
 * unchanged. `hosts` empty removes every managed line. Throws HairpinError INVALID_IP /
 * INVALID_HOST.
 */
export function applyHostsFile(text: string, ip: string, hosts: readonly string[]): string {
  const wanted = new Set<string>();
  for (const raw of hosts) {
    const check = checkHostnameSyntax(raw);
    if (!check.ok) throw new HairpinError(ErrorCodes.INVALID_HOST, check.message);
    if (!check.host.startsWith('*.')) wanted.add(check.host);
  }
  if (wanted.size > 0 && isIP(ip) === 0) {
    throw new HairpinError(ErrorCodes.INVALID_IP, `${JSON.stringify(ip)} is not an IP address`);
  }
  const lines = splitLines(text);
  const kept = foreignLines(lines);
  const eol = lineEnding(kept, lines);
  let out = kept.map((l) => l.text + l.eol).join('');
  if (wanted.size === 0) return out;
  if (out !== '' && !out.endsWith('\n')) out += `${eol}${ADDED_LINE_BREAK}${eol}`;
  return out + managedHostsLines(ip, [...wanted].sort(), eol).join('');
}

/** The file's own line ending, judged by the lines that are not ours, else by ours. */
function lineEnding(kept: readonly Line[], lines: readonly Line[]): string {
  const own = kept.find((l) => l.eol !== '') ?? lines.find((l) => l.eol !== '' && isOwned(l.text));
  return own?.eol ?? '\n';
}

/**
 * The lines that are not ours, as they were before hairpin first wrote: where that write
 * had to end the file's last line, ADDED_LINE_BREAK follows it and the ending comes off.
 */
function foreignLines(lines: readonly Line[]): Line[] {
  const kept = lines.filter((l) => !isOwned(l.text));
  const last = kept.at(-1);
  if (last === undefined || last.eol === '') return kept;
  const after = lines.slice(lines.lastIndexOf(last) + 1);
  if (!after.some((l) => l.text.trimEnd() === ADDED_LINE_BREAK)) return kept;
  // What was added is the line ending of the lines before. After a file's final lone CR
  // that is "\n", which reads back as "\r\n": the CR is the owner's.
  const added = lineEnding(kept.slice(0, -1), lines);
  const cr = last.eol === '\r\n' && added === '\n' ? '\r' : '';
  kept[kept.length - 1] = { text: last.text + cr, eol: '' };
  return kept;
}

/** Hosts currently on managed lines, in file order, with their address. */
export function managedHostsFileEntries(text: string): { ip: string; host: string }[] {
  return splitLines(text)
    .filter((l) => l.text.trimEnd().endsWith(MANAGED_MARKER))
    .flatMap((l) => {
      const [ip, ...names] = parseHostsLine(l.text) ?? [];
      return ip === undefined ? [] : names.map((host) => ({ ip, host }));
    });
}

/** Fields of one hosts line without its comment, if it maps an address (CoreDNS's rules). */
function parseHostsLine(line: string): string[] | undefined {
  const hash = line.indexOf('#');
  const fields = (hash === -1 ? line : line.slice(0, hash)).split(/\s+/).filter((f) => f !== '');
  if (fields.length < 2) return undefined;
  const ip = fields[0]!.split('%', 1)[0]!;
  if (isIP(ip) === 0) return undefined;
  return [ip, ...fields.slice(1)];
}

/**
 * The entries a resolver reads, as CoreDNS's hosts plugin parses them (hostsfile.go):
 * comments cut at `#`, an address and at least one name, names lower-cased and fully
 * qualified. One entry per line.
 */
export function parseHostsEntries(text: string): [ip: string, names: string[]][] {
  return splitLines(text).flatMap((l) => {
    const fields = parseHostsLine(l.text);
    if (fields === undefined) return [];
    const [ip, ...names] = fields;
    return [[canonicalIP(ip!), names.map((n) => (n.endsWith('.') ? n : `${n}.`).toLowerCase())]];
  });
}

/** Go's net.IP.String() form, as CoreDNS reports addresses (IPv6 compressed, RFC 5952). */
function canonicalIP(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}
