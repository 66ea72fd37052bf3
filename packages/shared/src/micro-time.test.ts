import { describe, expect, test } from 'vitest';
import { microTime } from './micro-time.ts';

describe('microTime', () => {
  test('exactly six fractional digits, UTC, byte for byte', () => {
    expect(microTime(new Date('2026-12-02T08:48:27.742Z'))).toBe('2026-12-02T08:48:27.742000Z');
    expect(microTime(new Date('2026-12-02T08:48:27Z'))).toBe('2026-12-02T08:48:27.000000Z');
    expect(microTime(new Date('2026-12-02T09:48:27.005+01:00'))).toBe(
      '2026-12-02T08:48:27.005000Z',
    );
    expect(microTime(new Date(0))).toBe('1970-01-01T00:00:00.000000Z');
    expect(Buffer.from(microTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 60))))).toEqual(
      Buffer.from('2026-01-02T03:04:05.060000Z', 'latin1'),
    );
  });

  test('matches the layout the apiserver parses', () => {
    for (const ms of [0, 1, 999, 1_764_000_000_123, 253_402_300_799_999]) {
      expect(microTime(new Date(ms))).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(new Date(microTime(new Date(ms))).getTime()).toBe(ms);
    }
  });

  test('refuses what has no RFC 3339 form', () => {
    expect(() => microTime(new Date(Number.NaN))).toThrow(RangeError);
    expect(() => microTime(new Date(253_402_300_800_000))).toThrow(RangeError); // year 10000
    expect(() => microTime(new Date(-62_167_219_200_001))).toThrow(RangeError); // year -1
    expect(microTime(new Date(-1))).toBe('1969-12-31T23:59:59.999000Z');
  });
});
