// A port of the Corefile lexer CoreDNS uses (coredns/caddy caddyfile/lexer.go), keeping
// each token's source offsets so that an editor can splice whole lines and give back
// every other byte unchanged.
//
// The rules, as lexer.go has them:
// - tokens are separated by Unicode white space (Go's unicode.IsSpace); `\r` is skipped;
// - `#` outside quotes at the start of a token starts a comment that runs to the end of
//   the line; a `#` inside a word drops only the rest of that word (`log#x y` is `log`,
//   `y`);
// - a token that starts with `"` is quoted: it ends at the next unescaped `"`, may span
//   lines, and `\"` is its only escape (any other `\x` keeps the backslash);
// - a byte-order mark at the very start is dropped; braces are ordinary characters here
//   (the parser gives a lone `{` or `}` its meaning).

export interface LexToken {
  /** 1-based line on which the token starts. */
  readonly line: number;
  /** The token as CoreDNS sees it (quotes removed, `\"` resolved). */
  readonly text: string;
  /** Offset of the token's first character (its opening quote, if quoted) in the source. */
  readonly start: number;
  /** Offset just past the token's last character (its closing quote, if quoted). */
  readonly end: number;
  readonly quoted: boolean;
}

/** Go's unicode.IsSpace. */
function isSpace(ch: number): boolean {
  return (
    (ch >= 0x09 && ch <= 0x0d) ||
    ch === 0x20 ||
    ch === 0x85 ||
    ch === 0xa0 ||
    ch === 0x1680 ||
    (ch >= 0x2000 && ch <= 0x200a) ||
    ch === 0x2028 ||
    ch === 0x2029 ||
    ch === 0x202f ||
    ch === 0x205f ||
    ch === 0x3000
  );
}

/**
 * The tokens, each already marked as not imported, so that the parser takes them as they
 * are (a Corefile of 20,000 hosts has tens of thousands of tokens: no copies).
 */
export function lexCorefile(source: string): (LexToken & { readonly imported: false })[] {
  const tokens: (LexToken & { readonly imported: false })[] = [];
  let i = source.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let comment = false;
  let quoted = false;
  let escaped = false;
  let val = '';
  let inToken = false;
  let start = 0;
  let tokenLine = 1;
  let tokenQuoted = false;
  /** Offset just past the last character taken into the current token. */
  let end = 0;

  // An unquoted token is its source text; a quoted one is built as it is read (escapes).
  const emit = (): void => {
    const text = tokenQuoted ? val : source.slice(start, end);
    tokens.push({ line: tokenLine, text, start, end, quoted: tokenQuoted, imported: false });
    val = '';
    inToken = false;
    tokenQuoted = false;
  };

  for (; i < source.length; i++) {
    // The common case first: a printable ASCII character of an unquoted word.
    const unit = source.charCodeAt(i);
    if (!quoted && !comment && unit > 0x20 && unit < 0x7f && unit !== 0x22 && unit !== 0x23) {
      if (!inToken) {
        inToken = true;
        start = i;
        tokenLine = line;
      }
      end = i + 1;
      continue;
    }
    const code = source.codePointAt(i)!;
    const width = code > 0xffff ? 2 : 1;

    if (quoted) {
      if (!escaped) {
        if (code === 0x5c /* \ */) {
          escaped = true;
          continue;
        }
        if (code === 0x22 /* " */) {
          quoted = false;
          end = i + 1;
          emit();
          continue;
        }
      }
      if (code === 0x0a) line++;
      if (escaped && code !== 0x22) val += '\\';
      val += source.slice(i, i + width);
      escaped = false;
      i += width - 1;
      end = i + 1;
      continue;
    }

    if (isSpace(code)) {
      if (code === 0x0d) continue;
      if (code === 0x0a) {
        line++;
        comment = false;
      }
      if (inToken) {
        // lexer.go's comment flag lives for one call of next(): a `#` glued to a word
        // hides only the rest of that word, the line goes on.
        emit();
        comment = false;
      }
      continue;
    }

    if (code === 0x23 /* # */) comment = true;
    if (comment) {
      i += width - 1;
      continue;
    }

    if (!inToken) {
      inToken = true;
      start = i;
      tokenLine = line;
      if (code === 0x22) {
        quoted = true;
        tokenQuoted = true;
        continue;
      }
    }
    i += width - 1;
    end = i + 1;
  }
  // At end of input a token in progress is kept, even an unterminated quoted one
  // (lexer.go returns what it has read on EOF).
  if (inToken) emit();
  return tokens;
}
