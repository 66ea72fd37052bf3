// Files on disk as text, without losing a byte.
//
// A node's /etc/hosts or a Corefile given to `render` belongs to other tools, which may
// have left bytes that are not UTF-8 (Latin-1 hand edits, a stray 0xff). Decoding them
// as UTF-8 would turn each into U+FFFD and the write back would replace the owner's
// bytes. Latin-1 would keep the bytes but change what the text means: a UTF-8 BOM would
// no longer be U+FEFF, and a lone 0xa0 would become a no-break space, which CoreDNS's
// lexer (Go's unicode.IsSpace over UTF-8) does not see there.
//
// So the text is UTF-8 where the bytes are well-formed UTF-8, and each byte that is not
// part of a well-formed sequence becomes the lone surrogate U+DC80..U+DCFF (Python's
// "surrogateescape"). Well-formed UTF-8 never decodes to a lone surrogate, so the mapping
// is one-to-one and `bytesFromText(textFromBytes(b))` is `b` for every byte string. A
// lone surrogate is neither white space nor `#` nor a line ending, just as Go reads an
// invalid byte as U+FFFD: editors see the same lines and tokens that CoreDNS and libc do.
import { isUtf8 } from 'node:buffer';

const ESCAPE_BASE = 0xdc00;

/** Length of the well-formed UTF-8 sequence at `i` (Unicode Table 3-7), 0 if none. */
function sequenceLength(b: Uint8Array, i: number): number {
  const b0 = b[i]!;
  if (b0 < 0x80) return 1;
  const cont = (j: number, lo = 0x80, hi = 0xbf): boolean =>
    j < b.length && b[j]! >= lo && b[j]! <= hi;
  if (b0 < 0xc2) return 0;
  if (b0 < 0xe0) return cont(i + 1) ? 2 : 0;
  if (b0 < 0xf0) {
    const ok = cont(i + 1, b0 === 0xe0 ? 0xa0 : 0x80, b0 === 0xed ? 0x9f : 0xbf) && cont(i + 2);
    return ok ? 3 : 0;
  }
  if (b0 < 0xf5) {
    const ok =
      cont(i + 1, b0 === 0xf0 ? 0x90 : 0x80, b0 === 0xf4 ? 0x8f : 0xbf) &&
      cont(i + 2) &&
      cont(i + 3);
    return ok ? 4 : 0;
  }
  return 0;
}

/** The file's bytes as text: UTF-8, each other byte as U+DC80..U+DCFF. */
export function textFromBytes(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buf)) return buf.toString('utf8');
  let out = '';
  let run = 0;
  for (let i = 0; i < buf.length;) {
    const n = sequenceLength(buf, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += buf.toString('utf8', run, i) + String.fromCharCode(ESCAPE_BASE + buf[i]!);
    i++;
    run = i;
  }
  return out + buf.toString('utf8', run);
}

/** A lone low surrogate in U+DC80..U+DCFF: an escaped byte. */
const ESCAPED = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/g;

/** The inverse of textFromBytes: UTF-8, each escaped byte written back as itself. */
export function bytesFromText(text: string): Buffer {
  const parts: Buffer[] = [];
  let run = 0;
  for (const m of text.matchAll(ESCAPED)) {
    parts.push(Buffer.from(text.slice(run, m.index), 'utf8'));
    parts.push(Buffer.of(m[0].charCodeAt(0) - ESCAPE_BASE));
    run = m.index + 1;
  }
  if (parts.length === 0) return Buffer.from(text, 'utf8');
  parts.push(Buffer.from(text.slice(run), 'utf8'));
  return Buffer.concat(parts);
}
