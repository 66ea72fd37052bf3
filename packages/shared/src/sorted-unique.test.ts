import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortedUnique } from './sorted-unique.ts';

describe('sortedUnique', () => {
  it('is [...new Set(values)].sort(), sorted input or not', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' })), fc.boolean(), (values, presort) => {
        const input = presort ? [...values].sort() : values;
        expect(sortedUnique(input)).toEqual([...new Set(input)].sort());
      }),
    );
  });
});
