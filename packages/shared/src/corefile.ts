// Lossless editing of CoreDNS Corefiles (the ownership markers are a stable contract: docs/corefile-editing.md).
//
// hairpin owns whole lines: one `rewrite name ... <relay FQDN> # managed by hairpin` line per
// host, directly after the opening line of the server block that serves the root zone.
// Everything else comes back byte for byte. The edit is a splice of whole lines over the
// original text, computed from a faithful parse (./corefile-parser.ts), and the result is
// parsed again before it is returned: a Corefile that cannot be edited safely is refused,
// never written back.
//
// The text is a ConfigMap value (Unicode, as the API serves it) or a file's bytes as
// file-bytes.ts decodes them; either way every code unit outside hairpin's lines comes back
// as it was. A file that ends without a newline still does after hairpin's rules (see
// restoreFinalLine), so removing them gives back the original exactly.
import { checkHostnameSyntax } from './hostname.ts';
import { ErrorCodes, HairpinError } from './errors.ts';
import { LEGACY_MARKER, MANAGED_MARKER } from './markers.ts';
import {
  parseCorefile,
  type Directive,
  type ParsedCorefile,
  type ParseToken,
  type ServerBlock,
} from './corefile-parser.ts';
import { lexCorefile } from './corefile-lexer.ts';

export { parseCorefile, type ParsedCorefile, type ServerBlock } from './corefile-parser.ts';

export interface CorefileToken {
  /** 1-based line on which the token starts, as CoreDNS's lexer counts. */
  readonly line: number;
  /** The token's text with quotes removed and escapes resolved, as CoreDNS sees it. */
  readonly text: string;
}

export interface CorefileEditOptions {
  /** The relay's FQDN, e.g. hairpin-relay.hairpin.svc.cluster.local. */
  readonly target: string;
  /** Directive names accepted besides CoreDNS 1.14.7's (builds with out-of-tree plugins). */
  readonly extraDirectives?: readonly string[];
}

/** CoreDNS's token stream for a Corefile (the lexer alone: it never refuses). */
export function tokenizeCorefile(text: string): CorefileToken[] {
  return lexCorefile(text).map(({ line, text: t }) => ({ line, text: t }));
}

const REWRITE_TYPES = new Set(['exact', 'prefix', 'suffix', 'substring', 'regex']);
const DEFAULT_DNS_PORT = 53;

// --- rules -------------------------------------------------------------------------

/**
 * The regex for a wildcard host: exactly one more label, as an Ingress wildcard means
 * (`*.example.com` matches `a.example.com`, not `example.com` nor `a.b.example.com`).
 * CoreDNS matches it against the query name, which is fully qualified (trailing dot);
 * `\.?$` accepts either spelling.
 */
export function wildcardRegex(host: string): string {
  const base = host.slice(2).replaceAll('.', '\\.');
  return `^[^.]+\\.${base}\\.?$`;
}

const WILDCARD_REGEX = /^\^\[\^\.\]\+\\\.((?:[a-z0-9-]+\\\.)*[a-z0-9-]+)\\\.\?\$$/;

/** The rule text (no indentation, no line ending) for one validated host. */
export function rewriteRule(host: string, target: string): string {
  return host.startsWith('*.')
    ? `rewrite name regex ${wildcardRegex(host)} ${target} answer auto ${MANAGED_MARKER}`
    : `rewrite name exact ${host} ${target} ${MANAGED_MARKER}`;
}

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
  const out = new Set<string>();
  for (const raw of hosts) {
    const check = checkHostnameSyntax(raw);
    if (!check.ok) throw new HairpinError(ErrorCodes.INVALID_HOST, check.message);
    out.add(check.host);
  }
  return [...out].sort();
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

// --- recognising our rules ------------------------------------------------------------

interface OwnedRule {
  readonly firstLine: number;
  readonly lastLine: number;
  /** Start offsets of the directive's own tokens. */
  readonly starts: ReadonlySet<number>;
  /** The host it rewrites, where it has one of our forms (exact name, our wildcard regex). */
  readonly host: string | undefined;
}

function normaliseName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
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

function hostOf(rule: { type: string; from: string }): string | undefined {
  if (rule.type === 'exact') return normaliseName(rule.from);
  if (rule.type === 'regex') {
    const m = WILDCARD_REGEX.exec(rule.from);
    if (m !== null) return `*.${m[1]!.replaceAll('\\.', '.')}`;
  }
  return undefined;
}

function ownedRules(parsed: ParsedCorefile, lines: readonly Line[], target: string): OwnedRule[] {
  const { source } = parsed;
  const owned: OwnedRule[] = [];
  for (const block of parsed.blocks) {
    for (const d of block.directives) {
      if (d.name !== 'rewrite' || d.tokens.some((t) => t.imported)) continue;
      const first = d.tokens[0]!;
      const last = d.tokens[d.tokens.length - 1]!;
      const lastLine = lineIndexOf(lines, last.end - 1);
      const trailer = source.slice(last.end, lines[lastLine]!.end).trim();
      const rule = nameRule(d);
      const byMarker = trailer === MANAGED_MARKER || trailer === LEGACY_MARKER;
      const byContent = rule !== undefined && normaliseName(rule.to) === target;
      if (!byMarker && !byContent) continue;
      owned.push({
        firstLine: lineIndexOf(lines, first.start),
        lastLine,
        starts: new Set(d.tokens.map((t) => t.start)),
        host: rule === undefined ? undefined : hostOf(rule),
      });
    }
  }
  return owned;
}

// --- the root-zone server block -----------------------------------------------------

interface RootKey {
  readonly port: number;
}

/** `[dns://].[:port]` → its port; any other zone or scheme → undefined. */
function rootKey(key: string): RootKey | undefined {
  let rest = key.toLowerCase();
  const scheme = /^([a-z0-9+.-]+):\/\//.exec(rest);
  if (scheme !== null) {
    if (scheme[1] !== 'dns') return undefined;
    rest = rest.slice(scheme[0].length);
  }
  const m = /^\.(?::(\d+))?$/.exec(rest);
  if (m === null) return undefined;
  return { port: m[1] === undefined ? DEFAULT_DNS_PORT : Number(m[1]) };
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

/** The start offsets of the tokens that start on each line. */
function tokensByLine(parsed: ParsedCorefile, lines: readonly Line[]): Map<number, number[]> {
  const byLine = new Map<number, number[]>();
  for (const t of parsed.tokens) {
    const line = lineIndexOf(lines, t.start);
    const list = byLine.get(line);
    if (list === undefined) byLine.set(line, [t.start]);
    else list.push(t.start);
  }
  return byLine;
}

/** Every token that starts on lines [first, last] is one of `allowed`. */
function linesHoldOnly(
  byLine: ReadonlyMap<number, readonly number[]>,
  first: number,
  last: number,
  allowed: ReadonlySet<number>,
): boolean {
  for (let i = first; i <= last; i++) {
    for (const start of byLine.get(i) ?? []) if (!allowed.has(start)) return false;
  }
  return true;
}

function indentOf(source: string, line: Line): string {
  return /^[ \t]*/.exec(source.slice(line.start, line.end))![0];
}

interface Plan {
  readonly remove: ReadonlySet<number>;
  readonly insertAfter: number;
  readonly indent: string;
  readonly eol: string;
}

function planInsertion(
  parsed: ParsedCorefile,
  lines: readonly Line[],
  owned: readonly OwnedRule[],
  byLine: ReadonlyMap<number, readonly number[]>,
  ownedLines: ReadonlySet<number>,
): Omit<Plan, 'remove'> {
  const { source } = parsed;
  const root = findRootBlock(parsed);
  // The line after which our rules go: the one holding the block's `{`, or for a
  // braceless file the line of its last key.
  const anchor: ParseToken = root.open ?? root.keyTokens[root.keyTokens.length - 1]!;
  const anchorLine = lineIndexOf(lines, anchor.start);
  const headerTokens = new Set<ParseToken>([...root.keyTokens, ...(root.open ? [root.open] : [])]);
  const headerStarts = new Set([...headerTokens].map((t) => t.start));
  if (!linesHoldOnly(byLine, anchorLine, anchorLine, headerStarts)) {
    throw uneditable(
      anchor.line,
      'the root server block\'s opening line also holds a directive; hairpin adds its rules on the line after "{", so put that directive on a line of its own',
    );
  }
  const firstOther = root.directives.find(
    (d) => !d.tokens[0]!.imported && !ownedLines.has(lineIndexOf(lines, d.tokens[0]!.start)),
  );
  const firstOwned = owned.find((o) => o.firstLine > anchorLine);
  let indent: string;
  if (firstOther !== undefined) {
    indent = indentOf(source, lines[lineIndexOf(lines, firstOther.tokens[0]!.start)]!);
  } else if (firstOwned !== undefined) {
    indent = indentOf(source, lines[firstOwned.firstLine]!);
  } else {
    const base = indentOf(source, lines[anchorLine]!);
    indent = base + (/^\t/m.test(source) && !/^ {2}/m.test(source) ? '\t' : '    ');
  }
  const eol = lines[anchorLine]!.eol || lineEnding(lines, (i) => ownedLines.has(i));
  return { insertAfter: anchorLine, indent, eol };
}

function render(
  source: string,
  lines: readonly Line[],
  plan: Plan | { remove: ReadonlySet<number>; insertAfter: -1; indent: ''; eol: '' },
  rules: readonly string[],
): string {
  let out = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!plan.remove.has(i)) out += source.slice(line.start, line.end) + line.eol;
    if (i === plan.insertAfter && rules.length > 0) {
      const rulesText = rules.map((rule) => `${plan.indent}${rule}`).join(plan.eol);
      // The anchor ends the file without a line ending: our rules start on a line of their
      // own, and the file still ends without one (restoreFinalLine takes it back off).
      out += line.eol === '' ? `${plan.eol}${rulesText}` : `${rulesText}${plan.eol}`;
    }
  }
  return out;
}

/**
 * Returns the Corefile with exactly one managed rule per host (validated, sorted) in the
 * root-zone server block, every other byte unchanged. `hosts` empty removes every managed
 * and legacy rule. Throws HairpinError (COREFILE_PARSE, COREFILE_NO_ROOT_BLOCK,
 * COREFILE_AMBIGUOUS_ROOT, COREFILE_UNEDITABLE, INVALID_HOST, INVALID_TARGET) rather than
 * return anything unsafe.
 */
export function applyCorefileHosts(
  text: string,
  hosts: readonly string[],
  options: CorefileEditOptions,
): string {
  const target = validTarget(options.target);
  const wanted = validHosts(hosts);
  const parseOptions = { extraDirectives: options.extraDirectives ?? [] };
  const parsed = parseCorefile(text, parseOptions);
  const lines = splitLines(text);
  const owned = ownedRules(parsed, lines, target);

  const byLine = tokensByLine(parsed, lines);
  const remove = new Set<number>();
  for (const rule of owned) {
    // A rule shares its lines with nothing else, or it cannot be removed cleanly.
    if (!linesHoldOnly(byLine, rule.firstLine, rule.lastLine, rule.starts)) {
      throw uneditable(
        rule.firstLine + 1,
        'a rewrite rule of hairpin shares its line with other configuration',
      );
    }
    for (let i = rule.firstLine; i <= rule.lastLine; i++) remove.add(i);
  }
  restoreFinalLine(lines, remove);

  if (wanted.length === 0) {
    if (remove.size === 0) return text;
    return checked(
      render(text, lines, { remove, insertAfter: -1, indent: '', eol: '' }, []),
      [],
      options,
    );
  }
  const plan: Plan = { remove, ...planInsertion(parsed, lines, owned, byLine, remove) };
  const rules = wanted.map((h) => rewriteRule(h, target));
  return checked(render(text, lines, plan, rules), wanted, options);
}

/** The result must parse and hold exactly the wanted rules: never return anything else. */
function checked(out: string, wanted: readonly string[], options: CorefileEditOptions): string {
  const got = managedCorefileHosts(out, options);
  if (got.length !== wanted.length || got.some((h, i) => h !== wanted[i])) {
    throw new HairpinError(
      ErrorCodes.COREFILE_UNEDITABLE,
      'internal check failed: the edited Corefile does not hold exactly the wanted rules',
    );
  }
  return out;
}

/** Hosts that the Corefile currently rewrites to the target (by marker or by content). */
export function managedCorefileHosts(text: string, options: CorefileEditOptions): string[] {
  const target = validTarget(options.target);
  const parsed = parseCorefile(text, { extraDirectives: options.extraDirectives ?? [] });
  const hosts = ownedRules(parsed, splitLines(text), target).flatMap((r) =>
    r.host === undefined ? [] : [r.host],
  );
  return [...new Set(hosts)].sort();
}

/**
 * Content for an import-mode key (k3s / AKS `coredns-custom`, key `hairpin.override`):
 * only the managed rules, one per line, each with the marker.
 */
export function renderCorefileOverride(
  hosts: readonly string[],
  options: CorefileEditOptions,
): string {
  const target = validTarget(options.target);
  return validHosts(hosts)
    .map((h) => `${rewriteRule(h, target)}\n`)
    .join('');
}
