import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { corpusDir, hostsFiles, hostsOracle } from '@hairpin/testing';
import { HairpinError } from './errors.ts';
import { bytesFromText, textFromBytes } from './file-bytes.ts';
import {
  applyHostsFile,
  managedHostsFileEntries,
  MAX_HOSTS_LINE_BYTES,
  parseHostsEntries,
} from './hosts-file.ts';

const ip = '10.96.0.50';
const marker = '# managed by hairpin';
const added = `# hairpin added the line break above ${marker}`;

/** The hosts file as bytes, edited as the agent edits it. */
function applyToBytes(bytes: Uint8Array, hosts: readonly string[]): Buffer {
  return bytesFromText(applyHostsFile(textFromBytes(bytes), ip, hosts));
}

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
    expect(restored).toBe(base);
  });

  test('add then remove gives back the original bytes', () => {
    const bytes = readFileSync(`${corpusDir}${name}`);
    const once = applyToBytes(bytes, hosts);
    expect(applyToBytes(once, hosts).equals(once)).toBe(true);
    const back = applyToBytes(once, []);
    expect(back.equals(legacy ? applyToBytes(bytes, []) : bytes)).toBe(true);
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

  test('a file without a final newline gets one before our lines, and loses it with them', () => {
    const once = applyHostsFile('127.0.0.1 localhost', ip, ['a.example.com']);
    expect(once).toBe(`127.0.0.1 localhost\n${added}\n${ip} a.example.com ${marker}\n`);
    expect(applyHostsFile(once, ip, ['a.example.com'])).toBe(once);
    expect(applyHostsFile(once, ip, ['b.example.com'])).toBe(
      `127.0.0.1 localhost\n${added}\n${ip} b.example.com ${marker}\n`,
    );
    expect(applyHostsFile(once, ip, [])).toBe('127.0.0.1 localhost');
    const crlf = applyHostsFile('a\r\nb', ip, ['a.example.com']);
    expect(crlf).toBe(`a\r\nb\r\n${added}\r\n${ip} a.example.com ${marker}\r\n`);
    expect(applyHostsFile(crlf, ip, ['a.example.com'])).toBe(crlf);
    expect(applyHostsFile(crlf, ip, [])).toBe('a\r\nb');
  });

  test('CRLF kept', () => {
    expect(applyHostsFile('127.0.0.1 localhost\r\n', ip, ['a.example.com'])).toBe(
      `127.0.0.1 localhost\r\n${ip} a.example.com ${marker}\r\n`,
    );
  });

  test('a line that only looks ended is not: a tool appended after our lines', () => {
    const once = applyHostsFile('a', ip, ['a.example.com']);
    const appended = `${once}1.2.3.4 other\n`;
    expect(applyHostsFile(appended, ip, [])).toBe('a\n1.2.3.4 other\n');
    expect(applyHostsFile(appended, ip, ['a.example.com'])).toBe(
      `a\n1.2.3.4 other\n${ip} a.example.com ${marker}\n`,
    );
  });

  test('a CR-only file: a second pass changes nothing, removal restores it', () => {
    const original = '127.0.0.1 localhost\r::1 localhost\r';
    const once = applyHostsFile(original, ip, ['a.example.com']);
    expect(once).toBe(`${original}\n${added}\n${ip} a.example.com ${marker}\n`);
    expect(applyHostsFile(once, ip, ['a.example.com'])).toBe(once);
    expect(applyHostsFile(once, ip, [])).toBe(original);
  });

  test('Latin-1 bytes of other tools survive byte for byte', () => {
    const original = Buffer.from(
      '127.0.0.1 localhost\n10.0.0.9 caf\xe9.local # caf\xe9\n',
      'latin1',
    );
    const once = applyToBytes(original, ['a.example.com']);
    expect(
      once.equals(Buffer.concat([original, Buffer.from(`${ip} a.example.com ${marker}\n`)])),
    ).toBe(true);
    expect(applyToBytes(once, ['a.example.com']).equals(once)).toBe(true);
    expect(applyToBytes(once, []).equals(original)).toBe(true);
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
          expect(back).toBe(base);
          expect(managedHostsFileEntries(once).map((e) => e.host)).toEqual(
            [...new Set(hosts)].sort(),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('arbitrary bytes: kept byte for byte, idempotent, removal restores the original', () => {
    const piece = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 6 }),
      fc
        .constantFrom(' ', '\t', '\n', '\r', '\r\n', '#', '127.0.0.1 a.b', '\uFEFF', '\u00a0')
        .map((p) => Buffer.from(p, 'utf8')),
      fc
        .constantFrom(`${ip} x.example.com ${marker}`, '# Added by hairpin-proxy', added)
        .map((p) => Buffer.from(p, 'utf8')),
    );
    const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/);
    const host = fc.tuple(label, label).map(([a, b]) => `${a}.${b}.com`);
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 30 }).map((p) => Buffer.concat(p)),
        fc.array(host, { minLength: 1, maxLength: 10 }),
        fc.array(host, { maxLength: 10 }),
        (bytes, hosts, others) => {
          const base = applyToBytes(bytes, []);
          if (!managedHostsFileEntries(textFromBytes(bytes)).length) {
            const ours = /managed by hairpin|Added by hairpin-proxy/.test(bytes.toString('latin1'));
            if (!ours) expect(base.equals(bytes)).toBe(true);
          }
          const once = applyToBytes(bytes, hosts);
          expect(applyToBytes(once, hosts).equals(once)).toBe(true);
          expect(once.subarray(0, base.length).equals(base)).toBe(true);
          const changed = applyToBytes(once, others);
          expect(applyToBytes(changed, []).equals(base)).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
