// Lossless editing of CoreDNS Corefiles (the ownership markers are a stable contract:
// docs/corefile-editing.md).
//
// hairpin owns whole lines, each ending in `# managed by hairpin`, in the server block that
// serves the root zone: a `hosts` block whose entries send the exact names to the relay's
// ClusterIP(s) (or, where the block already has a `hosts` directive, entry lines inside it:
// CoreDNS allows one per block), and `template`s for the wildcards (./corefile-encoding.ts).
// Everything else comes back byte for byte. The edit is a splice of whole lines over the
// original text, computed from a faithful parse (./corefile-parser.ts), and the result is
// parsed again before it is returned: a Corefile that cannot be edited safely is refused,
// never written back. The rules of earlier versions (`rewrite name exact HOST RELAY-FQDN`)
// and of hairpin-proxy are recognised and removed on every edit.
//
// The text is a ConfigMap value (Unicode, as the API serves it) or a file's bytes as
// file-bytes.ts decodes them; either way every code unit outside hairpin's lines comes back
// as it was. A file that ends without a newline still does after hairpin's rules (see
// restoreFinalLine), so removing them gives back the original exactly.
import { checkHostnameSyntax, isPlainHostname } from './hostname.ts';
import { ErrorCodes, HairpinError } from './errors.ts';
import { LEGACY_MARKER, MANAGED_MARKER } from './markers.ts';
import {
  hostsBlock,
  exactsOfRegex,
  hostTemplates,
  indentBlock,
  NO_HOSTS_FILE,
  relayAddresses,
  splitHosts,
  wildcardsOfRegex,
} from './corefile-encoding.ts';
import { isIP } from 'node:net';
import {
  parseCorefile,
  type Directive,
  type ParsedCorefile,
  type ParseToken,
  type ServerBlock,
} from './corefile-parser.ts';
import { lexCorefile } from './corefile-lexer.ts';
import { sortedUnique } from './sorted-unique.ts';

export { parseCorefile, type ParsedCorefile, type ServerBlock } from './corefile-parser.ts';

export interface CorefileToken {
  /** 1-based line on which the token starts, as CoreDNS's lexer counts. */
  readonly line: number;
  /** The token's text with quotes removed and escapes resolved, as CoreDNS sees it. */
  readonly text: string;
}

export interface CorefileEditOptions {
  /**
   * The relay's FQDN, e.g. hairpin-relay.hairpin.svc.cluster.local: earlier versions'
   * `rewrite` rules to it are recognised as ours (and removed) even without a marker.
   */
  readonly target: string;
  /**
   * The relay Service's ClusterIP(s), one per family: what managed names answer. Needed to
   * write hosts; entries to these addresses are recognised as ours even without a marker.
   */
  readonly relayIPs?: readonly string[];
  /** Directive names accepted besides CoreDNS 1.14.7's (builds with out-of-tree plugins). */
  readonly extraDirectives?: readonly string[];
}

/** CoreDNS's token stream for a Corefile (the lexer alone: it never refuses). */
export function tokenizeCorefile(text: string): CorefileToken[] {
  return lexCorefile(text).map(({ line, text: t }) => ({ line, text: t }));
}

const REWRITE_TYPES = new Set(['exact', 'prefix', 'suffix', 'substring', 'regex']);
const DEFAULT_DNS_PORT = 53;

// --- earlier forms ---------------------------------------------------------------------

/** Earlier versions' wildcard rule: `rewrite name regex ^[^.]+\.BASE\.?$ RELAY answer auto`. */
const LEGACY_WILDCARD_REGEX = /^\^\[\^\.\]\+\\\.((?:[a-z0-9-]+\\\.)*[a-z0-9-]+)\\\.\?\$$/;

function validTarget(target: string): string {
  const check = checkHostnameSyntax(target.replace(/\.$/, ''));
  if (!check.ok || check.host.startsWith('*')) {
    throw new HairpinError(
      ErrorCodes.INVALID_TARGET,
      `rewrite target ${JSON.stringify(target)} is not a DNS name`,
    );
  }
  return check.host;
}

function validHosts(hosts: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < hosts.length; i++) {
    const raw = hosts[i]!;
    if (isPlainHostname(raw)) {
      out.push(raw);
      continue;
    }
    const check = checkHostnameSyntax(raw);
    if (!check.ok) throw new HairpinError(ErrorCodes.INVALID_HOST, check.message);
    out.push(check.host);
  }
  return sortedUnique(out);
}

// --- lines -------------------------------------------------------------------------

interface Line {
  /** Offset of the line's first character. */
  readonly start: number;
  /** Offset of its line ending (or of the end of text). */
  readonly end: number;
  /** The line ending itself: "\n", "\r\n" or "" on a last line without one. */
  readonly eol: string;
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    if (nl === -1) {
      lines.push({ start, end: text.length, eol: '' });
      break;
    }
    const crlf = nl > start && text[nl - 1] === '\r';
    lines.push({ start, end: crlf ? nl - 1 : nl, eol: crlf ? '\r\n' : '\n' });
    start = nl + 1;
  }
  return lines;
}

/** The file's own line ending, judged by the lines not in `skip`. */
function lineEnding(lines: readonly Line[], skip: (i: number) => boolean): string {
  return lines.find((l, i) => l.eol !== '' && !skip(i))?.eol ?? '\n';
}

/**
 * A file that ends in our rules without a line ending ended without one before we wrote:
 * the ending of the line before our rules is ours, and comes off with them (in `lines`).
 * What we added is the file's line ending; after a final lone CR that is "\n", which reads
 * back as "\r\n": the CR is the owner's.
 */
function restoreFinalLine(lines: Line[], remove: ReadonlySet<number>): void {
  const last = lines.length - 1;
  if (last < 0 || !remove.has(last) || lines[last]!.eol !== '') return;
  let k = last;
  while (k >= 0 && remove.has(k)) k--;
  const line = lines[k];
  if (line === undefined || line.eol === '') return;
  const added = lineEnding(lines, (i) => i === k || remove.has(i));
  const cr = line.eol === '\r\n' && added === '\n' ? 1 : 0;
  lines[k] = { start: line.start, end: line.end + cr, eol: '' };
}

function lineIndexOf(lines: readonly Line[], offset: number): number {
  let lo = 0;
  let hi = lines.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lines[mid]!.start <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// --- recognising our lines ------------------------------------------------------------

/** Lines hairpin owns, and the hosts they serve. */
interface Owned {
  readonly firstLine: number;
  readonly lastLine: number;
  /** The source offsets of its tokens: the first one's start to the last one's end. */
  readonly span: Span;
  /** The hosts these lines serve (none for a legacy rule of another form). */
  readonly hosts: readonly string[];
  /** What it is, for error messages. */
  readonly what: string;
}

function normaliseName(name: string): string {
  // Most names are lower case without a final dot already: no new string for them (and no
  // regex: this runs for each of 20,000 names per read).
  let plain = name.charCodeAt(name.length - 1) !== 0x2e; /* . */
  for (let i = 0; plain && i < name.length; i++) {
    const c = name.charCodeAt(i);
    plain = c < 0x41 || c > 0x5a; /* A-Z */
  }
  return plain ? name : name.toLowerCase().replace(/\.$/, '');
}

/** The FROM and TO of a `rewrite ... name ...` directive, in line or block form. */
function nameRule(d: Directive): { type: string; from: string; to: string } | undefined {
  const args = d.tokens.slice(1).map((t) => t.text);
  const at = args.indexOf('name');
  if (at === -1) return undefined;
  const rest = args.slice(at + 1);
  if (rest[0] !== undefined && REWRITE_TYPES.has(rest[0]) && rest.length >= 3) {
    return { type: rest[0], from: rest[1]!, to: rest[2]! };
  }
  if (rest.length >= 2) return { type: 'exact', from: rest[0]!, to: rest[1]! };
  return undefined;
}

function legacyHostOf(rule: { type: string; from: string }): string | undefined {
  if (rule.type === 'exact') return normaliseName(rule.from);
  if (rule.type === 'regex') {
    const m = LEGACY_WILDCARD_REGEX.exec(rule.from);
    if (m !== null) return `*.${m[1]!.replaceAll('\\.', '.')}`;
  }
  return undefined;
}

/** A directive's tokens, by the line they start on. */
function tokenLines(d: Directive, lines: readonly Line[]): Map<number, ParseToken[]> {
  const byLine = new Map<number, ParseToken[]>();
  for (let k = 0; k < d.tokens.length; k++) {
    const t = d.tokens[k]!;
    const i = lineIndexOf(lines, t.start);
    const list = byLine.get(i);
    if (list === undefined) byLine.set(i, [t]);
    else list.push(t);
  }
  return byLine;
}

/** The comment after the last of `tokens` on its line, trimmed. */
function trailer(source: string, lines: readonly Line[], tokens: readonly ParseToken[]): string {
  const last = tokens[tokens.length - 1]!;
  return source.slice(last.end, lines[lineIndexOf(lines, last.end - 1)]!.end).trim();
}

/** The names of an inline hosts entry line (`IP name...`); undefined: not an entry. */
function entryNames(tokens: readonly ParseToken[]): { ip: string; names: string[] } | undefined {
  const ip = tokens[0]?.text ?? '';
  if (tokens.length < 2 || isIP(ip) === 0) return undefined;
  const names: string[] = [];
  for (let i = 1; i < tokens.length; i++) names.push(normaliseName(tokens[i]!.text));
  return { ip: ip.toLowerCase(), names };
}

interface HostsDirective {
  readonly directive: Directive;
  /** Line of its `{` (undefined: no block), and of its `}`. */
  readonly openLine: number | undefined;
  readonly closeLine: number | undefined;
  readonly args: readonly string[];
  readonly byLine: ReadonlyMap<number, readonly ParseToken[]>;
}

function hostsDirective(d: Directive, lines: readonly Line[]): HostsDirective {
  const byLine = tokenLines(d, lines);
  const firstLine = lineIndexOf(lines, d.tokens[0]!.start);
  const first = byLine.get(firstLine)!;
  const brace = first.findIndex((t, i) => i > 0 && t.text === '{' && !t.quoted);
  const last = d.tokens[d.tokens.length - 1]!;
  return {
    directive: d,
    openLine: brace === -1 ? undefined : firstLine,
    closeLine: brace === -1 ? undefined : lineIndexOf(lines, last.start),
    args: first.slice(1, brace === -1 ? undefined : brace).map((t) => t.text),
    byLine,
  };
}

class Recognizer {
  readonly owned: Owned[] = [];
  private readonly source: string;
  private readonly lines: readonly Line[];
  private readonly target: string;
  private readonly relayIPs: ReadonlySet<string>;

  constructor(
    source: string,
    lines: readonly Line[],
    target: string,
    relayIPs: ReadonlySet<string>,
  ) {
    this.source = source;
    this.lines = lines;
    this.target = target;
    this.relayIPs = relayIPs;
  }

  private line(offset: number): number {
    return lineIndexOf(this.lines, offset);
  }

  private whole(d: Directive, hosts: readonly string[], what: string): void {
    this.owned.push({
      firstLine: this.line(d.tokens[0]!.start),
      lastLine: this.line(d.tokens[d.tokens.length - 1]!.end - 1),
      span: spanOf(d.tokens),
      hosts,
      what,
    });
  }

  private markedFirstLine(d: Directive): boolean {
    const firstLine = this.line(d.tokens[0]!.start);
    const onFirst = d.tokens.filter((t) => this.line(t.start) === firstLine);
    const mark = trailer(this.source, this.lines, onFirst);
    return mark === MANAGED_MARKER || mark === LEGACY_MARKER;
  }

  rewrite(d: Directive): void {
    const rule = nameRule(d);
    const mark = trailer(this.source, this.lines, d.tokens);
    const byMarker = mark === MANAGED_MARKER || mark === LEGACY_MARKER;
    const byContent = rule !== undefined && normaliseName(rule.to) === this.target;
    if (!byMarker && !byContent) return;
    const host = rule === undefined ? undefined : legacyHostOf(rule);
    this.whole(d, host === undefined ? [] : [host], 'a rewrite rule of hairpin');
  }

  template(d: Directive): void {
    const texts = d.tokens.map((t) => t.text);
    // Our regexes: wildcards (`^[^.]+\.(?:...)\.$`) and, in import mode, exact names.
    const matched = texts.flatMap((t, i) =>
      texts[i - 1] === 'match' ? [wildcardsOfRegex(t) ?? exactsOfRegex(t)] : [],
    );
    const ours = matched.length > 0 && matched.every((m) => m !== undefined);
    if (!ours && !this.markedFirstLine(d)) return;
    const hosts = ours ? matched.flatMap((m) => m ?? []) : [];
    this.whole(d, hosts, 'a template of hairpin');
  }

  /** Ours whole (marked, or `hosts /dev/null` with entries to the relay): true. */
  hosts(h: HostsDirective): boolean {
    const entries = [...h.byLine]
      .filter(([i]) => i !== h.openLine && i !== h.closeLine)
      .map(([, tokens]) => ({ tokens, entry: entryNames(tokens) }));
    const onlyOurs =
      h.args.length === 1 &&
      h.args[0] === NO_HOSTS_FILE &&
      // Without the relay's addresses to compare, the file /dev/null marks it as ours.
      entries.every(
        (e) =>
          e.entry === undefined ||
          this.relayIPs.size === 0 ||
          this.relayIPs.has(e.entry.ip) ||
          trailer(this.source, this.lines, e.tokens) === MANAGED_MARKER,
      );
    if (!this.markedFirstLine(h.directive) && !onlyOurs) return false;
    const names = entries.flatMap((e) => e.entry?.names ?? []);
    this.whole(h.directive, names, 'the hosts block of hairpin');
    return true;
  }
}

interface Recognised {
  readonly owned: readonly Owned[];
  /** The server blocks with a `hosts` of the owner's (CoreDNS allows one per block). */
  readonly ownHosts: ReadonlySet<ServerBlock>;
}

function recognise(
  parsed: ParsedCorefile,
  lines: readonly Line[],
  target: string,
  relayIPs: readonly string[],
): Recognised {
  const r = new Recognizer(parsed.source, lines, target, new Set(relayIPs));
  const ownHosts = new Set<ServerBlock>();
  for (const block of parsed.blocks) {
    for (const d of block.directives) {
      if (d.tokens.some((t) => t.imported)) {
        if (d.name === 'hosts') ownHosts.add(block);
        continue;
      }
      if (d.name === 'rewrite') r.rewrite(d);
      else if (d.name === 'template') r.template(d);
      else if (d.name === 'hosts' && !r.hosts(hostsDirective(d, lines))) ownHosts.add(block);
    }
  }
  return { owned: r.owned, ownHosts };
}

// --- the root-zone server block -----------------------------------------------------

/** `[dns://].[:port]` → its port; any other zone or scheme → undefined. */
function rootKey(key: string): { port: number } | undefined {
  const d = dnsKey(key);
  return d?.zone === '.' ? { port: d.port } : undefined;
}

/** The server block serving the root zone over plain DNS; port 53 wins among several. */
export function findRootBlock(parsed: ParsedCorefile): ServerBlock {
  const candidates = parsed.blocks.flatMap((block) =>
    block.keys.flatMap((key) => {
      const root = rootKey(key);
      return root === undefined ? [] : [{ block, port: root.port }];
    }),
  );
  const blocks = [...new Set(candidates.map((c) => c.block))];
  if (blocks.length === 1) return blocks[0]!;
  if (blocks.length === 0) {
    throw new HairpinError(
      ErrorCodes.COREFILE_NO_ROOT_BLOCK,
      'no server block serves the root zone "." over plain DNS (keys like ".", ".:53", "dns://.:53")',
    );
  }
  const on53 = [
    ...new Set(candidates.filter((c) => c.port === DEFAULT_DNS_PORT).map((c) => c.block)),
  ];
  if (on53.length === 1) return on53[0]!;
  const where = blocks.map((b) => `${b.keys.join(' ')} (line ${b.keyTokens[0]?.line ?? 0})`);
  throw new HairpinError(
    ErrorCodes.COREFILE_AMBIGUOUS_ROOT,
    `several server blocks serve the root zone and none is the only one on port 53: ${where.join(', ')}`,
  );
}

// --- editing --------------------------------------------------------------------------

function uneditable(line: number, why: string): HairpinError {
  return new HairpinError(ErrorCodes.COREFILE_UNEDITABLE, `Corefile:${line} - ${why}`, { line });
}

/** A stretch of source: tokens whose start is in [from, to). */
interface Span {
  readonly from: number;
  readonly to: number;
}

/** The tokens of one directive (or line of one), in source order: their stretch. */
function spanOf(tokens: readonly { start: number; end: number }[]): Span {
  return { from: tokens[0]!.start, to: tokens[tokens.length - 1]!.end };
}

/** Which tokens start on which lines, by binary search over the sorted token starts. */
class TokenIndex {
  private readonly tokens: readonly { readonly start: number }[];
  private readonly lines: readonly Line[];
  private readonly length: number;

  constructor(parsed: ParsedCorefile, lines: readonly Line[]) {
    this.tokens = parsed.tokens;
    this.lines = lines;
    this.length = parsed.source.length;
  }

  /** Index of the first token starting at or after `offset`. */
  private at(offset: number): number {
    let lo = 0;
    let hi = this.tokens.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tokens[mid]!.start < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Token indices [a, b) of the tokens starting on lines [first, last]. */
  private range(first: number, last: number): [number, number] {
    const end = this.lines[last + 1]?.start ?? this.length;
    return [this.at(this.lines[first]!.start), this.at(end)];
  }

  /** Every token that starts on lines [first, last] lies within `span`. */
  holdOnly(first: number, last: number, span: Span): boolean {
    const [a, b] = this.range(first, last);
    for (let i = a; i < b; i++) {
      const start = this.tokens[i]!.start;
      if (start < span.from || start >= span.to) return false;
    }
    return true;
  }
}

function indentOf(source: string, line: Line): string {
  return /^[ \t]*/.exec(source.slice(line.start, line.end))![0];
}

/** One indentation step of the file: a tab where it indents with tabs, else four spaces. */
function indentStep(source: string): string {
  return /^\t/m.test(source) && !/^ {2}/m.test(source) ? '\t' : '    ';
}

/** Lines to add, by the line they follow. */
type Insertions = Map<number, string[]>;

interface Edit {
  readonly remove: ReadonlySet<number>;
  readonly insert: Insertions;
  readonly eol: string;
}

/** Where a block's lines go: after the line of its `{`, indented like its first directive. */
function blockAnchor(
  parsed: ParsedCorefile,
  lines: readonly Line[],
  index: TokenIndex,
  removed: ReadonlySet<number>,
  root: ServerBlock,
): { line: number; indent: string } {
  const { source } = parsed;
  // The line after which our lines go: the one holding the block's `{`, or for a
  // braceless file the line of its last key.
  const anchor: ParseToken = root.open ?? root.keyTokens[root.keyTokens.length - 1]!;
  const which = root.keys.every((k) => rootKey(k) !== undefined)
    ? 'the root server block'
    : `the server block ${root.keys.join(' ')}`;
  const anchorLine = lineIndexOf(lines, anchor.start);
  const header = spanOf([...root.keyTokens, ...(root.open ? [root.open] : [])]);
  if (!index.holdOnly(anchorLine, anchorLine, header)) {
    throw uneditable(
      anchor.line,
      `${which}'s opening line also holds a directive; hairpin adds its lines on the line after "{", so put that directive on a line of its own`,
    );
  }
  const firstOther = root.directives.find(
    (d) => !d.tokens[0]!.imported && !removed.has(lineIndexOf(lines, d.tokens[0]!.start)),
  );
  const indent =
    firstOther !== undefined
      ? indentOf(source, lines[lineIndexOf(lines, firstOther.tokens[0]!.start)]!)
      : indentOf(source, lines[anchorLine]!) + indentStep(source);
  return { line: anchorLine, indent };
}

function render(source: string, lines: readonly Line[], edit: Edit): string {
  // Pieces joined once: the 600 KB of a large hosts block is copied once, not per step.
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!edit.remove.has(i)) out.push(source.slice(line.start, line.end), line.eol);
    const added = edit.insert.get(i);
    if (added !== undefined && added.length > 0) {
      // The anchor ends the file without a line ending: our lines start on a line of their
      // own, and the file still ends without one (restoreFinalLine takes it back off).
      if (line.eol === '') out.push(edit.eol);
      for (let k = 0; k < added.length; k++) {
        out.push(added[k]!);
        if (k < added.length - 1 || line.eol !== '') out.push(edit.eol);
      }
    }
  }
  return out.join('');
}

/** `[dns://]ZONE[:PORT]` → its zone (lower case, no final dot; `.` for the root) and port. */
function dnsKey(key: string): { zone: string; port: number } | undefined {
  let rest = key.toLowerCase();
  const scheme = /^([a-z0-9+.-]+):\/\//.exec(rest);
  if (scheme !== null) {
    if (scheme[1] !== 'dns') return undefined;
    rest = rest.slice(scheme[0].length);
  }
  const m = /^([\s\S]*?)(?::(\d+))?$/.exec(rest)!;
  const zone = m[1] === '.' || m[1] === '' ? '.' : m[1]!.replace(/\.$/, '');
  return { zone, port: m[2] === undefined ? DEFAULT_DNS_PORT : Number(m[2]) };
}

/**
 * Which server block CoreDNS hands each host's queries to: the one whose zone is the longest
 * match among the blocks on the root block's port (a stub domain's block, say), else the
 * root block. A wildcard goes where the names one label under its base go.
 */
function routeHosts(
  parsed: ParsedCorefile,
  root: ServerBlock,
  hosts: readonly string[],
): Map<ServerBlock, string[]> {
  const ports = new Set(root.keys.flatMap((k) => rootKey(k)?.port ?? []));
  const zones = new Map<string, ServerBlock>();
  for (const block of parsed.blocks) {
    for (const key of block.keys) {
      const d = dnsKey(key);
      if (d !== undefined && d.zone !== '.' && ports.has(d.port)) zones.set(d.zone, block);
    }
  }
  const routed = new Map<ServerBlock, string[]>();
  if (zones.size === 0) return new Map([[root, [...hosts]]]);
  for (const host of hosts) {
    let block = root;
    for (let name = host.startsWith('*.') ? host.slice(2) : host; ;) {
      const found = zones.get(name);
      if (found !== undefined) {
        block = found;
        break;
      }
      const dot = name.indexOf('.');
      if (dot === -1) break;
      name = name.slice(dot + 1);
    }
    const list = routed.get(block);
    if (list === undefined) routed.set(block, [host]);
    else list.push(host);
  }
  return routed;
}

/**
 * Returns the Corefile with exactly the wanted hosts (validated, sorted) managed in the
 * root-zone server block, every other byte unchanged; earlier forms of hairpin's rules
 * and hairpin-proxy's are removed. `hosts` empty removes everything hairpin wrote. Throws
 * HairpinError (COREFILE_PARSE, COREFILE_NO_ROOT_BLOCK, COREFILE_AMBIGUOUS_ROOT,
 * COREFILE_UNEDITABLE, INVALID_HOST, INVALID_TARGET) rather than return anything unsafe.
 */
export function applyCorefileHosts(
  text: string,
  hosts: readonly string[],
  options: CorefileEditOptions,
  reuse?: CorefileParseMemo,
): string {
  const target = validTarget(options.target);
  const wanted = validHosts(hosts);
  const relay = wanted.length === 0 ? undefined : relayAddresses(options.relayIPs ?? []);
  const read = reuse?.read(text, options) ?? readCorefile(text, target, options);
  const { parsed, owned, ownHosts } = read;
  // restoreFinalLine edits the line list: a copy, so a remembered read stays as it was.
  const lines = read.lines.slice();

  const index = new TokenIndex(parsed, lines);
  const remove = new Set<number>();
  for (const o of owned) {
    // Our lines share them with nothing else, or they cannot be removed cleanly.
    if (!index.holdOnly(o.firstLine, o.lastLine, o.span)) {
      throw uneditable(o.firstLine + 1, `${o.what} shares its line with other configuration`);
    }
    for (let i = o.firstLine; i <= o.lastLine; i++) remove.add(i);
  }
  restoreFinalLine(lines, remove);
  const eol = lineEnding(lines, (i) => remove.has(i));
  const insert: Insertions = new Map();

  if (relay !== undefined) {
    const step = indentStep(text);
    for (const [block, served] of routeHosts(parsed, findRootBlock(parsed), wanted)) {
      const anchor = blockAnchor(parsed, lines, index, remove, block);
      // Exact names in a hosts block of ours, wildcards in templates; where the block has a
      // `hosts` of the owner's (CoreDNS allows one per block), every name in templates.
      const { exact, wildcards } = ownHosts.has(block)
        ? { exact: [], wildcards: served }
        : splitHosts(served);
      const added = [
        ...(exact.length > 0 ? [hostsBlock(relay, exact)] : []),
        ...hostTemplates(relay, wildcards),
      ].flatMap((b) => indentBlock(b, anchor.indent, step));
      if (added.length > 0) insert.set(anchor.line, added);
    }
  }
  if (remove.size === 0 && insert.size === 0) return text;
  const out = render(text, lines, { remove, insert, eol });
  const result = readCorefile(out, target, options);
  checked(result, wanted);
  reuse?.remember(result, options);
  return out;
}

/** A Corefile parsed, split into lines, and hairpin's lines in it recognised. */
interface CorefileRead extends Recognised {
  readonly parsed: ParsedCorefile;
  readonly lines: readonly Line[];
}

function readCorefile(text: string, target: string, options: CorefileEditOptions): CorefileRead {
  const parsed = parseCorefile(text, { extraDirectives: options.extraDirectives ?? [] });
  const lines = splitLines(text);
  return { parsed, lines, ...recognise(parsed, lines, target, options.relayIPs ?? []) };
}

/**
 * The read of the last Corefile an edit returned, for the next edit: the watch brings the
 * written text back, and at 20,000 hosts lexing and parsing it again was a third of an
 * edit. Only the very same text under the same options is taken from it (a read is a pure
 * function of both); one per Corefile edited.
 */
export class CorefileParseMemo {
  private last: { readonly key: string; readonly read: CorefileRead } | undefined;

  /** @internal */
  read(text: string, options: CorefileEditOptions): CorefileRead | undefined {
    const last = this.last;
    return last !== undefined &&
      last.key === optionsKey(options) &&
      last.read.parsed.source === text
      ? last.read
      : undefined;
  }

  /** @internal */
  remember(read: CorefileRead, options: CorefileEditOptions): void {
    this.last = { key: optionsKey(options), read };
  }
}

const optionsKey = (o: CorefileEditOptions): string =>
  JSON.stringify([o.target, o.relayIPs ?? [], o.extraDirectives ?? []]);

/** The result must parse and serve exactly the wanted hosts: never return anything else. */
function checked(read: CorefileRead, wanted: readonly string[]): void {
  const { parsed } = read;
  for (const block of parsed.blocks) {
    const hosts = block.directives.filter((d) => d.name === 'hosts');
    if (hosts.length > 1) {
      throw uneditable(
        hosts[1]!.tokens[0]!.line,
        'the edit would leave two "hosts" in one server block, which stops CoreDNS',
      );
    }
  }
  const got = hostsOf(read);
  if (got.length !== wanted.length || got.some((h, i) => h !== wanted[i])) {
    throw new HairpinError(
      ErrorCodes.COREFILE_UNEDITABLE,
      'internal check failed: the edited Corefile does not hold exactly the wanted hosts',
    );
  }
}

const hostsOf = ({ owned }: Recognised): string[] =>
  sortedUnique(owned.length === 1 ? owned[0]!.hosts : owned.flatMap((o) => o.hosts));

/** Hosts that the Corefile currently sends to the relay (by marker or by content). */
export function managedCorefileHosts(text: string, options: CorefileEditOptions): string[] {
  return hostsOf(readCorefile(text, validTarget(options.target), options));
}

/**
 * Content for an import-mode key (k3s / AKS `coredns-custom`, `hairpin.override`, imported
 * into the root block): the managed hosts as `template`s (./corefile-encoding.ts,
 * importTemplates), each line with the marker. No hosts: empty.
 */
export function renderCorefileOverride(
  hosts: readonly string[],
  options: CorefileEditOptions,
): string {
  validTarget(options.target);
  const wanted = validHosts(hosts);
  if (wanted.length === 0) return '';
  const relay = relayAddresses(options.relayIPs ?? []);
  const lines = hostTemplates(relay, wanted).flatMap((t) => indentBlock(t, '', '    '));
  return `${lines.join('\n')}\n`;
}

/**
 * Whether CoreDNS picks up edits of this Corefile while it runs: `yes` where a server block
 * has the `reload` plugin (it reloads the whole file), `no` where none has, `unknown`
 * where files are imported (they may have it; hairpin cannot read them). Without
 * `reload`, an edit takes effect only when CoreDNS restarts.
 */
export function corefileReloads(
  text: string,
  options: Pick<CorefileEditOptions, 'extraDirectives'> = {},
): 'yes' | 'no' | 'unknown' {
  const parsed = parseCorefile(text, { extraDirectives: options.extraDirectives ?? [] });
  if (parsed.blocks.some((b) => b.directives.some((d) => d.name === 'reload'))) return 'yes';
  const snippets = new Set(
    parsed.tokens.flatMap((t) => (/^\(.+\)$/.test(t.text) ? [t.text.slice(1, -1)] : [])),
  );
  const importsFiles = parsed.tokens.some(
    (t, i) => t.text === 'import' && !snippets.has(parsed.tokens[i + 1]?.text ?? ''),
  );
  return importsFiles ? 'unknown' : 'no';
}
