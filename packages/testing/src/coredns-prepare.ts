// prepareCorefile: makes a Corefile from a cluster (the corpus, or an edit of one) runnable by
// the test CoreDNS on loopback, without changing what it answers for the names under test.
// What it changes, in this order:
//  1. `render`: another tool's template placeholders, replaced as that tool does at install
//     time (`%{CLUSTER_DOMAIN}%`, `{{ .DNSDomain }}`, `UPSTREAMNAMESERVER`, ...).
//  2. node-local-dns's `__PILLAR__*__` placeholders: the three its manifest's `sed` fills
//     (LOCAL__DNS, DNS__SERVER, DNS__DOMAIN) and the two node-cache fills at startup
//     (CLUSTER__DNS: kube-dns-upstream's ClusterIP; UPSTREAM__SERVERS: /etc/resolv.conf).
//  3. `{$NAME}` / `{%NAME%}`: from `env`, as CoreDNS would expand them (unset: empty).
//  4. Server block keys: the DNS port (the root zone's, else 53) is dropped, so the block
//     listens on the `-dns.port` startCoreDNS picks; other fixed ports stay (or move, `ports`).
//  5. Every server block gets `bind 127.0.0.1` as its first line; its own `bind` lines go.
//  6. `forward FROM TO...`: every TO becomes `upstream` (the stub upstream, or another test
//     CoreDNS); `tls` / `tls_servername` inside it go, the upstream being plain DNS.
//  7. `health`, `ready`, `prometheus`, `pprof`: their address becomes 127.0.0.1:0 (any free
//     port; CoreDNS's health self-check then logs a harmless warning each second).
//  8. Paths under `/etc/coredns/` become relative, i.e. inside startCoreDNS's directory
//     (`import /etc/coredns/custom/*.override` reads `custom/*.override` there; give it
//     through `files`). Other paths stay; a missing `hosts` or `file` file only logs a warning.
// The rest comes back byte for byte. A file without server blocks (empty, comments only) is
// returned as is: CoreDNS then serves its default (`whoami`) on the -dns.port, all interfaces.
// Line-oriented: a server block's `{` must end the line of its keys, as in every corpus file.

export type PillarName =
  'LOCAL__DNS' | 'DNS__SERVER' | 'DNS__DOMAIN' | 'CLUSTER__DNS' | 'UPSTREAM__SERVERS';

/** The values used for `__PILLAR__<NAME>__` unless `pillar` gives others. */
export const PILLAR_DEFAULTS: Readonly<Record<PillarName, string>> = {
  LOCAL__DNS: '169.254.20.10',
  DNS__SERVER: '10.96.0.10',
  DNS__DOMAIN: 'cluster.local',
  CLUSTER__DNS: '10.96.0.11',
  UPSTREAM__SERVERS: '/etc/resolv.conf',
};

/** A `forward` being rewritten: its server block's zones (no scheme, no port), FROM and TOs. */
export interface ForwardSite {
  /** Empty inside a snippet `(name) { ... }`. */
  readonly zones: readonly string[];
  readonly from: string;
  readonly to: readonly string[];
}

export interface PrepareCorefileOptions {
  /** Every forward's upstream, `HOST:PORT`, or chosen per forward (e.g. by zone). */
  readonly upstream: string | ((forward: ForwardSite) => string);
  /** Template rendering, applied first, in order: a string is replaced everywhere. */
  readonly render?: ReadonlyArray<readonly [string | RegExp, string]>;
  readonly pillar?: Partial<Record<PillarName, string>>;
  readonly env?: Readonly<Record<string, string>>;
  /** Fixed ports other than the DNS port, moved: `{ 1053: 20053 }`. Default: kept. */
  readonly ports?: Readonly<Record<number, number>>;
  /** Absolute path prefixes to replace; default `{ '/etc/coredns/': '' }`. */
  readonly paths?: Readonly<Record<string, string>>;
}

const LISTENERS = new Set(['health', 'ready', 'prometheus', 'pprof']);

/** Tokens of one line, comments removed (`#` outside quotes starts one, even glued). */
function tokens(line: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (quoted) {
      if (c === '\\' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (c === '"') quoted = false;
      else current += c;
      continue;
    }
    if (c === '#') break;
    if (c === '"') {
      quoted = true;
      has = true;
    } else if (/\s/.test(c) && c !== '\u00a0') {
      if (has) out.push(current);
      current = '';
      has = false;
    } else {
      current += c;
      has = true;
    }
  }
  if (has) out.push(current);
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function splitKey(key: string): { scheme: string; host: string; port: number | undefined } {
  const m = /^([a-z0-9+]+:\/\/)?(.*?)(?::(\d+))?$/i.exec(key.replace(/^\uFEFF/, ''));
  return { scheme: m?.[1] ?? '', host: m?.[2] ?? key, port: m?.[3] ? Number(m[3]) : undefined };
}

function serverKeys(toks: string[]): string[] {
  return toks
    .slice(0, -1)
    .flatMap((t) => t.split(','))
    .filter((t) => t !== '');
}

/** See the file's header for what changes and why. */
export function prepareCorefile(text: string, options: PrepareCorefileOptions): string {
  let s = text;
  for (const [from, to] of options.render ?? []) {
    s = typeof from === 'string' ? s.split(from).join(to) : s.replace(from, to);
  }
  const pillar = { ...PILLAR_DEFAULTS, ...options.pillar };
  s = s.replace(/__PILLAR__([A-Z_]+?)__(?![A-Z])/g, (whole, name: string) =>
    Object.hasOwn(pillar, name) ? pillar[name as PillarName] : whole,
  );
  const env = options.env ?? {};
  s = s.replace(
    /\{\$([^}\s]+)\}|\{%([^}\s]+)%\}/g,
    (_, a?: string, b?: string) => env[a ?? b ?? ''] ?? '',
  );

  const lines = s.split(/(?<=\n)/);
  // The DNS port: the root zone's, else CoreDNS's default.
  let mainPort = 53;
  let depth = 0;
  for (const line of lines) {
    const t = tokens(line);
    if (depth === 0 && t.at(-1) === '{' && !t[0]?.startsWith('(')) {
      const root = serverKeys(t)
        .map(splitKey)
        .find((k) => k.host === '.');
      if (root) {
        mainPort = root.port ?? 53;
        break;
      }
    }
    depth += t.filter((x) => x === '{').length - t.filter((x) => x === '}').length;
  }

  const paths = Object.entries(options.paths ?? { '/etc/coredns/': '' }).map(
    ([prefix, to]) => [new RegExp(`(^|\\s)${escapeRegExp(prefix)}`, 'g'), to] as const,
  );
  const upstream = options.upstream;
  const out: string[] = [];
  depth = 0;
  let zones: string[] = [];
  let inForward = false;
  let skipDepth: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] ?? '';
    const eol = /\r?\n$/.exec(line)?.[0] ?? '';
    const indent = /^[\s\uFEFF]*/.exec(line)?.[0] ?? '';
    const t = tokens(line);
    const opens = t.filter((x) => x === '{').length;
    const closes = t.filter((x) => x === '}').length;
    const before = depth;
    depth += opens - closes;
    if (skipDepth !== undefined) {
      if (depth <= skipDepth) skipDepth = undefined;
      continue;
    }
    for (const [re, to] of paths) line = line.replace(re, `$1${to}`);
    const directive = t[0];
    if (before === 0 && t.at(-1) === '{' && directive !== undefined && !directive.startsWith('(')) {
      // A server block: keys without the DNS port, then `bind 127.0.0.1`.
      const keys = serverKeys(t).map((key) => {
        const k = splitKey(key);
        const port = k.port ?? 53;
        const moved = port === mainPort ? '' : `:${options.ports?.[port] ?? port}`;
        return `${k.scheme}${k.host}${moved}`;
      });
      zones = keys.map((k) => splitKey(k).host.replace(/\.$/, '').toLowerCase() || '.');
      const next = lines.slice(i + 1).find((l) => tokens(l).length > 0 && tokens(l)[0] !== '}');
      const inner = next === undefined ? `${indent}    ` : (/^\s*/.exec(next)?.[0] ?? '');
      out.push(
        `${indent}${keys.join(' ')} {${eol || '\n'}`,
        `${inner}bind 127.0.0.1${eol || '\n'}`,
      );
      continue;
    }
    if (before === 0 && directive?.startsWith('(') && t.at(-1) === '{') zones = [];
    if (before === 1 && directive === 'bind') {
      if (opens > closes) skipDepth = 1;
      continue;
    }
    if (before === 1 && directive === 'forward' && t.length >= 2) {
      const from = t[1] ?? '.';
      const to = t.slice(2).filter((x) => x !== '{');
      const target = typeof upstream === 'string' ? upstream : upstream({ zones, from, to });
      const rest = to.length === 0 ? '' : ` ${target}`;
      inForward = opens > closes;
      out.push(`${indent}forward ${from}${rest}${inForward ? ' {' : ''}${eol}`);
      continue;
    }
    if (before === 2 && inForward && (directive === 'tls' || directive === 'tls_servername'))
      continue;
    if (before === 1 && directive !== undefined && LISTENERS.has(directive)) {
      const hasBlock = t.at(-1) === '{';
      out.push(`${indent}${directive} 127.0.0.1:0${hasBlock ? ' {' : ''}${eol}`);
      continue;
    }
    if (depth <= 1) inForward = false;
    out.push(line);
  }
  return out.join('');
}
