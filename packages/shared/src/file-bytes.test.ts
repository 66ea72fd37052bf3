import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { bytesFromText, textFromBytes } from './file-bytes.ts';

describe('file bytes as text', () => {
  test('every byte string comes back identical', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(bytesFromText(textFromBytes(bytes)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  test('well-formed UTF-8 is plain UTF-8 text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const bytes = Buffer.from(s, 'utf8');
        expect(textFromBytes(bytes)).toBe(s);
        expect(bytesFromText(s).equals(bytes)).toBe(true);
      }),
    );
  });

  test.each([
    ['Latin-1 é', [0x63, 0x61, 0x66, 0xe9], 'caf\udce9'],
    ['UTF-8 é beside it', [0xc3, 0xa9, 0xe9], '\u00e9\udce9'],
    ['a lone 0xa0 is not a no-break space', [0x61, 0xa0, 0x62], 'a\udca0b'],
    ['UTF-8 BOM stays U+FEFF', [0xef, 0xbb, 0xbf, 0x2e, 0xff], '\ufeff.\udcff'],
    ['truncated sequence', [0xe2, 0x82, 0x0a], '\udce2\udc82\n'],
    ['encoded surrogate (CESU) is invalid', [0xed, 0xa0, 0x80], '\udced\udca0\udc80'],
    ['overlong slash is invalid', [0xc0, 0xaf], '\udcc0\udcaf'],
    ['beyond U+10FFFF is invalid', [0xf4, 0x90, 0x80, 0x80], '\udcf4\udc90\udc80\udc80'],
    ['astral char then a bad byte', [0xf0, 0x9f, 0x98, 0x80, 0x80], '\u{1f600}\udc80'],
  ])('%s', (_name, bytes, text) => {
    expect(textFromBytes(Uint8Array.from(bytes))).toBe(text);
    expect([...bytesFromText(text)]).toEqual(bytes);
  });
});
