import { describe, expect, test } from 'vitest';
import { corefileOracle, corefiles } from '@hairpin/testing';
import { lexCorefile } from './corefile-lexer.ts';
import { parseCorefile } from './corefile-parser.ts';
import { HairpinError } from './errors.ts';

describe('agrees with CoreDNS on every corpus Corefile', () => {
  test.each(corefiles().map((f) => [f.name, f] as const))('%s', (_name, file) => {
    const oracle = corefileOracle(file.name);
    expect(lexCorefile(file.text).map((t) => [t.line, t.text])).toEqual(oracle.tokens);
    if (oracle.parse.ok && !file.name.includes('invalid-')) {
      expect(() => parseCorefile(file.text)).not.toThrow();
    } else {
      // CoreDNS refuses it while parsing, or (invalid-*) while setting up plugins.
      let caught: unknown;
      try {
        parseCorefile(file.text);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(HairpinError);
      expect((caught as HairpinError).code).toBe('HAIRPIN_COREFILE_PARSE');
      expect((caught as HairpinError).line).toBeGreaterThan(0);
      if (oracle.parse.error !== undefined) {
        expect((caught as HairpinError).message).toBe(oracle.parse.error);
      }
    }
  });
});
