// A port of the Corefile parser CoreDNS uses (coredns/caddy caddyfile/parse.go) over the
// lexer's tokens: server blocks with their keys and directives, snippets and `import`,
// braceless single-server files, and CoreDNS's own error messages. Imports of files are
// not resolved (the editor never reads other files); snippet imports are expanded so that
// their directives are checked like CoreDNS checks them.
import { ErrorCodes, HairpinError } from './errors.ts';
import { COREDNS_DIRECTIVES } from './corefile-directives.ts';
import { lexCorefile, type LexToken } from './corefile-lexer.ts';

/** A token in parse order; `imported` when it came from a snippet, not from this place. */
export interface ParseToken extends LexToken {
  readonly imported: boolean;
}

export interface Directive {
  readonly name: string;
  /** Every token of the directive, its name first, nested blocks included. */
  readonly tokens: readonly ParseToken[];
}

export interface ServerBlock {
  readonly keys: readonly string[];
  readonly keyTokens: readonly ParseToken[];
  /** The block's `{`, or undefined for a braceless single-server file. */
  readonly open: ParseToken | undefined;
  /** The block's `}` (undefined when braceless). */
  readonly close: ParseToken | undefined;
  readonly directives: readonly Directive[];
}

export interface ParsedCorefile {
  readonly source: string;
  readonly tokens: readonly LexToken[];
  readonly blocks: readonly ServerBlock[];
}

export interface ParseOptions {
  /** Directive names accepted besides CoreDNS 1.14.7's (out-of-tree plugins). */
  readonly extraDirectives?: readonly string[];
}

const MAX_IMPORT_EXPANSIONS = 10_000;

function lineBreaks(text: string): number {
  let n = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) n++;
  return n;
}

class Parser {
  private tokens: ParseToken[];
  private cursor = -1;
  private eof = false;
  private readonly snippets = new Map<string, ParseToken[]>();
  private readonly valid: (name: string) => boolean;
  private expansions = 0;
  readonly blocks: ServerBlock[] = [];

  constructor(tokens: readonly ParseToken[], options: ParseOptions) {
    // Never changed in place (an import splices a new array): no copy.
    this.tokens = tokens as ParseToken[];
    const extra = new Set(options.extraDirectives ?? []);
    this.valid = (name) => COREDNS_DIRECTIVES.has(name) || extra.has(name);
  }

  // --- the Dispenser ---
  private next(): boolean {
    if (this.cursor < this.tokens.length - 1) {
      this.cursor++;
      return true;
    }
    return false;
  }
  private nextArg(): boolean {
    if (this.cursor < 0 || this.cursor >= this.tokens.length - 1) return false;
    if (this.isNewLineAt(this.cursor + 1)) return false;
    this.cursor++;
    return true;
  }
  private val(): string {
    return this.tokens[this.cursor]?.text ?? '';
  }
  private lineNo(): number {
    return this.tokens[this.cursor]?.line ?? 0;
  }
  private isNewLineAt(index: number): boolean {
    if (index < 1) return true;
    if (index > this.tokens.length - 1) return false;
    const prev = this.tokens[index - 1]!;
    return prev.line + lineBreaks(prev.text) < this.tokens[index]!.line;
  }
  private isNewLine(): boolean {
    return this.isNewLineAt(this.cursor);
  }
  private err(message: string): HairpinError {
    const line = this.lineNo();
    return new HairpinError(
      ErrorCodes.COREFILE_PARSE,
      `Corefile:${line} - Error during parsing: ${message}`,
      { line },
    );
  }
  private syntaxErr(expected: string): HairpinError {
    const line = this.lineNo();
    return new HairpinError(
      ErrorCodes.COREFILE_PARSE,
      `Corefile:${line} - Syntax error: Unexpected token '${this.val()}', expecting '${expected}'`,
      { line },
    );
  }

  // --- parse.go ---
  parseAll(): void {
    while (this.next()) {
      const block = this.parseOne();
      if (block !== undefined && block.keys.length > 0) this.blocks.push(block);
    }
  }

  private parseOne(): ServerBlock | undefined {
    const keys: string[] = [];
    const keyTokens: ParseToken[] = [];
    if (this.tokens.length === 0) return undefined;
    this.addresses(keys, keyTokens);
    if (this.eof) return { keys, keyTokens, open: undefined, close: undefined, directives: [] };
    if (keys.length === 1 && keys[0]!.startsWith('(') && keys[0]!.endsWith(')')) {
      const name = keys[0]!.slice(1, -1);
      if (this.snippets.has(name)) {
        throw this.err(`redeclaration of previously declared snippet ${name}`);
      }
      this.snippets.set(name, this.snippetTokens());
      return undefined;
    }
    return this.blockContents(keys, keyTokens);
  }

  private addresses(keys: string[], keyTokens: ParseToken[]): void {
    let expectingAnother = false;
    for (;;) {
      let tkn = this.val();
      if (tkn === 'import' && this.isNewLine()) {
        this.doImport();
        continue;
      }
      if (tkn === '{') {
        if (expectingAnother) {
          throw this.err(`Expected another address but had '${tkn}' - check for extra comma`);
        }
        break;
      }
      if (tkn !== '') {
        if (tkn.endsWith(',')) {
          tkn = tkn.slice(0, -1);
          expectingAnother = true;
        } else {
          expectingAnother = false;
        }
        keys.push(tkn);
        keyTokens.push(this.tokens[this.cursor]!);
      }
      const hasNext = this.next();
      if (expectingAnother && !hasNext) throw this.err('Unexpected EOF');
      if (!hasNext) {
        this.eof = true;
        break;
      }
      if (!expectingAnother && this.isNewLine()) break;
    }
  }

  private blockContents(keys: string[], keyTokens: ParseToken[]): ServerBlock {
    let open: ParseToken | undefined;
    if (this.val() === '{') {
      open = this.tokens[this.cursor];
    } else {
      // single-server configs don't need curly braces
      this.cursor--;
    }
    const directives = this.directives();
    let close: ParseToken | undefined;
    if (open !== undefined) {
      if (this.val() !== '}') throw this.syntaxErr('}');
      close = this.tokens[this.cursor];
    }
    return { keys, keyTokens, open, close, directives };
  }

  private directives(): Directive[] {
    const out: Directive[] = [];
    while (this.next()) {
      if (this.val() === '}') break;
      if (this.val() === 'import') {
        this.doImport();
        this.cursor--;
        continue;
      }
      out.push(this.directive());
    }
    return out;
  }

  private directive(): Directive {
    const name = this.val();
    if (!this.valid(name)) throw this.err(`Unknown directive '${name}'`);
    const first = this.cursor;
    let nesting = 0;
    while (this.next()) {
      const v = this.val();
      if (v === '{') {
        nesting++;
      } else if (this.isNewLine() && nesting === 0) {
        this.cursor--;
        break;
      } else if (v === '}' && nesting > 0) {
        nesting--;
      } else if (v === '}' && nesting === 0) {
        throw this.err("Unexpected '}' because no matching opening brace");
      }
    }
    if (nesting > 0) throw this.err('Unexpected EOF');
    // The tokens taken are the run from its name to the cursor (one array of its size: the
    // hosts block at 20,000 hosts is one directive).
    return { name, tokens: this.tokens.slice(first, this.cursor + 1) };
  }

  private snippetTokens(): ParseToken[] {
    if (this.val() !== '{') throw this.syntaxErr('{');
    let count = 1;
    const tokens: ParseToken[] = [];
    while (this.next()) {
      if (this.val() === '}') {
        count--;
        if (count === 0) break;
      }
      if (this.val() === '{') count++;
      tokens.push(this.tokens[this.cursor]!);
    }
    if (count !== 0) throw this.syntaxErr('}');
    return tokens;
  }

  private doImport(): void {
    if (!this.nextArg()) {
      if (this.val() === '{') throw this.err("Unexpected token '{', expecting argument");
      throw this.err(`Wrong argument count or unexpected line ending after '${this.val()}'`);
    }
    const pattern = this.val();
    if (pattern === '') throw this.err('Import requires a non-empty filepath');
    if (this.nextArg()) throw this.err('Import takes only one argument (glob pattern or file)');
    if (++this.expansions > MAX_IMPORT_EXPANSIONS) throw this.err('too many imports');
    // Snippets are spliced in; files are left unresolved (they live on the CoreDNS pod).
    const imported = (this.snippets.get(pattern) ?? []).map((t) => ({ ...t, imported: true }));
    const before = this.tokens.slice(0, this.cursor - 1);
    const after = this.tokens.slice(this.cursor + 1);
    this.tokens = [...before, ...imported, ...after];
    // As parse.go leaves it: Val() (in addresses) or the next Next() after the caller's
    // step back (in directives) lands on the first spliced token.
    this.cursor = before.length;
  }
}

/**
 * Parses a Corefile the way CoreDNS does, and refuses what CoreDNS refuses, plus braces
 * that do not balance (CoreDNS accepts some such files and then nests plugins wrongly:
 * an editor must not make such a file look healthy).
 */
export function parseCorefile(source: string, options: ParseOptions = {}): ParsedCorefile {
  const tokens = lexCorefile(source);
  const parser = new Parser(tokens, options);
  parser.parseAll();
  checkBraces(tokens);
  return { source, tokens, blocks: parser.blocks };
}

function checkBraces(tokens: readonly LexToken[]): void {
  const open: LexToken[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.quoted) continue;
    if (t.text === '{') open.push(t);
    else if (t.text === '}') {
      if (open.pop() === undefined) {
        throw new HairpinError(
          ErrorCodes.COREFILE_PARSE,
          `Corefile:${t.line} - '}' closes nothing`,
          {
            line: t.line,
          },
        );
      }
    }
  }
  const unclosed = open[open.length - 1];
  if (unclosed !== undefined) {
    throw new HairpinError(
      ErrorCodes.COREFILE_PARSE,
      `Corefile:${unclosed.line} - '{' is never closed (${open.length} unclosed)`,
      { line: unclosed.line },
    );
  }
}
