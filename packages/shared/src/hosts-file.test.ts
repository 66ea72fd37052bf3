import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { hostsFiles, hostsOracle } from '@hairpin/testing';
import { HairpinError } from './errors.ts';
import {
  applyHostsFile,
  managedHostsFileEntries,
  MAX_HOSTS_LINE_BYTES,
  parseHostsEntries,
} from './hosts-file.ts';

const ip = '10.96.0.50';
const marker = '# managed by hairpin';

describe.each(hostsFiles().map((f) => [f.name, f.text] as const))('%s', (name, original) => {
  const hosts = ['shop.example.com', 'api.example.com', '*.wild.example.com'];
  const edited = applyHostsFile(original, ip, hosts);
  const legacy = /# Added by hairpin-proxy/.test(original);

  test('CoreDNS reads the same entries from it as its hosts plugin does', () => {
    expect(parseHostsEntries(original)).toEqual(hostsOracle(name).entries);
  });

  test('appends the managed line at the end, keeping every other byte', () => {
    const eol = original.includes('\r\n') ? '\r\n' : '\n';
    expect(edited.endsWith(`${ip} api.example.com shop.example.com ${marker}${eol}`)).toBe(true);
    const base = applyHostsFile(original, ip, []);
    expect(edited.startsWith(base)).toBe(true);
    if (!legacy) expect(base).toBe(original);
    expect(managedHostsFileEntries(edited)).toEqual([
      { ip, host: 'api.example.com' },
      { ip, host: 'shop.example.com' },
    ]);
  });

  test('is idempotent and reversible', () => {
    expect(applyHostsFile(edited, ip, hosts)).toBe(edited);
    const restored = applyHostsFile(edited, ip, []);
    const base = applyHostsFile(original, ip, []);
    expect(restored === base || restored === `${base}\n` || restored === `${base}\r\n`).toBe(true);
  });
});

describe('hosts-file editing', () => {
  test('legacy hairpin-proxy lines are removed', () => {
    const text = '127.0.0.1 localhost\n10.0.0.9\tfoo.example.com # Added by hairpin-proxy\n';
    expect(applyHostsFile(text, ip, ['foo.example.com'])).toBe(
      `127.0.0.1 localhost\n${ip} foo.example.com ${marker}\n`,
    );
  });

  test('our lines written by an older run anywhere are replaced by one block at the end', () => {
    const text = `a\n${ip} old.example.com ${marker}\nb\n`;
    expect(applyHostsFile(text, '10.96.0.51', ['new.example.com'])).toBe(
      `a\nb\n10.96.0.51 new.example.com ${marker}\n`,
    );
  });

  test('many hosts make several lines, each under 512 bytes, IPv6 too', () => {
    const many = Array.from({ length: 200 }, (_, i) => `host-${i}.${'x'.repeat(40)}.example.com`);
    const out = applyHostsFile('', 'fd00:10:96::a', many);
    const lines = out.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      expect(Buffer.byteLength(`${line}\n`)).toBeLessThanOrEqual(MAX_HOSTS_LINE_BYTES);
      expect(line.startsWith('fd00:10:96::a ')).toBe(true);
    }
    expect(managedHostsFileEntries(out).map((e) => e.host)).toEqual([...many].sort());
  });

  test('a file without a final newline gets one before our lines; CRLF kept', () => {
    expect(applyHostsFile('127.0.0.1 localhost', ip, ['a.example.com'])).toBe(
      `127.0.0.1 localhost\n${ip} a.example.com ${marker}\n`,
    );
    expect(applyHostsFile('127.0.0.1 localhost\r\n', ip, ['a.example.com'])).toBe(
      `127.0.0.1 localhost\r\n${ip} a.example.com ${marker}\r\n`,
    );
  });

  test('bad input is refused', () => {
    expect(() => applyHostsFile('', 'not-an-ip', ['a.example.com'])).toThrow(HairpinError);
    expect(() => applyHostsFile('', ip, ['a.example.com\n1.2.3.4 evil.com'])).toThrow(
      /not a valid DNS name/,
    );
    expect(() => applyHostsFile('', ip, ['a.example.com # x'])).toThrow(HairpinError);
  });

  test('random hosts files and host sets: kept bytes, idempotent, reversible', () => {
    const piece = fc.constantFrom(
      '127.0.0.1',
      '::1',
      ' ',
      '\t',
      '\n',
      '\r\n',
      '#',
      '# c',
      'localhost',
      'a.example.com',
      `${ip} x.example.com ${marker}`,
      '# Added by hairpin-proxy',
      '\uFEFF',
      'x',
    );
    const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/);
    const host = fc.tuple(label, label).map(([a, b]) => `${a}.${b}.com`);
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 30 }).map((p) => p.join('')),
        fc.array(host, { maxLength: 30 }),
        (text, hosts) => {
          const base = applyHostsFile(text, ip, []);
          const once = applyHostsFile(text, ip, hosts);
          expect(applyHostsFile(once, ip, hosts)).toBe(once);
          expect(once.startsWith(base)).toBe(true);
          const back = applyHostsFile(once, ip, []);
          expect([base, `${base}\n`, `${base}\r\n`]).toContain(back);
          expect(managedHostsFileEntries(once).map((e) => e.host)).toEqual(
            [...new Set(hosts)].sort(),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });
});
