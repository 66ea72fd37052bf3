import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { checkHostname, checkHostnameSyntax, type HostRejectReason } from './hostname.ts';

const policy = { clusterDomain: 'cluster.local', allowedSuffixes: [] };

describe('checkHostname accepts valid DNS names, lower-cased', () => {
  test.each([
    ['shop.example.com', 'shop.example.com'],
    ['Shop.EXAMPLE.com', 'shop.example.com'],
    ['*.example.com', '*.example.com'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['a-b.c-d.example.org', 'a-b.c-d.example.org'],
    ['1.2.3.example.com', '1.2.3.example.com'],
    [`${'a'.repeat(63)}.example.com`, `${'a'.repeat(63)}.example.com`],
  ])('%s', (raw, host) => {
    expect(checkHostname(raw, policy)).toEqual({ ok: true, host });
  });
});

describe('checkHostname refuses hostile and unsuitable names', () => {
  const cases: [unknown, HostRejectReason][] = [
    [undefined, 'not_a_string'],
    [42, 'not_a_string'],
    [{ toString: () => 'a.com' }, 'not_a_string'],
    ['', 'empty'],
    [`${'a.'.repeat(130)}com`, 'too_long'],
    [`${'a'.repeat(64)}.example.com`, 'label_too_long'],
    // Corefile and hosts-file injection attempts
    ['shop.example.com\n}', 'invalid_characters'],
    ['shop.example.com # x', 'invalid_characters'],
    ['shop.example.com hairpin', 'invalid_characters'],
    ['x{.example.com', 'invalid_characters'],
    ['"a".example.com', 'invalid_characters'],
    ['a\\.example.com', 'invalid_characters'],
    ['a.example.com\r\n10.0.0.1 evil.com', 'invalid_characters'],
    ['a\u0000.example.com', 'invalid_characters'],
    ['a.example.com.', 'invalid_characters'],
    ['.example.com', 'invalid_characters'],
    ['a..example.com', 'invalid_characters'],
    ['-a.example.com', 'invalid_characters'],
    ['a-.example.com', 'invalid_characters'],
    ['under_score.example.com', 'invalid_characters'],
    ['bücher.example', 'invalid_characters'],
    ['shop.example.com:80', 'invalid_characters'],
    // wildcards
    ['*', 'bad_wildcard'],
    ['*.com', 'bad_wildcard'],
    ['a.*.example.com', 'bad_wildcard'],
    ['*a.example.com', 'bad_wildcard'],
    ['**.example.com', 'bad_wildcard'],
    // IP literals in any spelling
    ['10.0.0.1', 'ip_literal'],
    ['127.1', 'ip_literal'],
    ['::1', 'ip_literal'],
    ['[::1]', 'ip_literal'],
    ['fd00::1', 'ip_literal'],
    ['1.2.3.4.5', 'ip_literal'],
    // never hairpinned
    ['com', 'single_label'],
    ['intranet', 'single_label'],
    ['localhost', 'single_label'],
    ['localhost.localdomain', 'localhost'],
    ['app.localhost', 'localhost'],
    ['*.localhost', 'bad_wildcard'],
    ['*.app.localhost', 'localhost'],
    ['kubernetes.default.svc.cluster.local', 'cluster_domain'],
    ['cluster.local', 'cluster_domain'],
    ['*.svc.cluster.local', 'cluster_domain'],
    ['CoreDNS.Kube-System.SVC.Cluster.Local', 'cluster_domain'],
    // the reverse zones CoreDNS's kubernetes plugin serves
    ['in-addr.arpa', 'reverse_zone'],
    ['IN-ADDR.ARPA', 'reverse_zone'],
    ['10.in-addr.arpa', 'reverse_zone'],
    ['1.0.96.10.in-addr.arpa', 'reverse_zone'],
    ['*.96.10.in-addr.arpa', 'reverse_zone'],
    ['*.in-addr.arpa', 'reverse_zone'],
    ['ip6.arpa', 'reverse_zone'],
    ['0.0.d.f.ip6.arpa', 'reverse_zone'],
    ['*.ip6.arpa', 'reverse_zone'],
    // not strings: YAML `host: [a.com]`, `host: 1`, `host: {a: b}`, `host: true`
    [['a.com'], 'not_a_string'],
    [1, 'not_a_string'],
    [{ a: 'b' }, 'not_a_string'],
    [true, 'not_a_string'],
    [null, 'not_a_string'],
  ];
  test.each(cases)('%j -> %s', (raw, reason) => {
    const result = checkHostname(raw, policy);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe(reason);
      expect(result.message).not.toMatch(/[\n\r\0]/);
    }
  });
});

describe('allowed suffixes', () => {
  const restricted = {
    clusterDomain: 'cluster.local',
    allowedSuffixes: ['example.com', '.example.org'],
  };
  test.each([
    ['example.com', true],
    ['a.example.com', true],
    ['*.example.com', true],
    ['a.b.example.org', true],
    ['badexample.com', false],
    ['example.com.evil.net', false],
    ['example.net', false],
  ])('%s allowed: %s', (host, allowed) => {
    const result = checkHostname(host, restricted);
    expect(result.ok).toBe(allowed);
    if (!result.ok) expect(result.reason).toBe('not_allowed_suffix');
  });

  test('only the reverse zones themselves: look-alike names pass', () => {
    for (const host of ['in-addr.arpa.example.com', 'notin-addr.arpa', 'e164.arpa', 'xip6.arpa']) {
      expect(checkHostname(host, policy)).toEqual({ ok: true, host });
    }
  });

  test('a non-string says what it is', () => {
    expect(checkHostname(['a.com'], policy)).toMatchObject({
      message: 'hostname is not a string but an array',
    });
    expect(checkHostname(7, policy)).toMatchObject({
      message: 'hostname is not a string but a number',
    });
  });

  test('a custom cluster domain is refused like cluster.local', () => {
    const custom = { clusterDomain: 'corp.internal.', allowedSuffixes: [] };
    expect(checkHostname('svc.corp.internal', custom)).toMatchObject({ reason: 'cluster_domain' });
    expect(checkHostname('a.cluster.local', custom)).toEqual({ ok: true, host: 'a.cluster.local' });
  });
});

describe('properties', () => {
  const dangerous = /[\s#{}"'\\;`$()<>|&]/;

  test('whatever passes is safe to splice into a Corefile or hosts line', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (raw) => {
        const result = checkHostname(raw, policy);
        if (result.ok) {
          expect(result.host).not.toMatch(dangerous);
          expect(result.host.length).toBeLessThanOrEqual(253);
          expect(result.host).toBe(result.host.toLowerCase());
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('names built from valid labels pass; any inserted dangerous character fails', () => {
    const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
    const tld = fc.stringMatching(/^[a-z][a-z0-9]{1,5}$/);
    const name = fc
      .tuple(fc.array(label, { minLength: 1, maxLength: 4 }), tld)
      .map(([labels, t]) => [...labels, t].join('.'));
    fc.assert(
      fc.property(
        name,
        fc.constantFrom(' ', '\n', '#', '{', '}', '"', '\\', '\t'),
        fc.nat(),
        (n, bad, at) => {
          expect(checkHostnameSyntax(n)).toEqual({ ok: true, host: n });
          const i = at % (n.length + 1);
          expect(checkHostnameSyntax(n.slice(0, i) + bad + n.slice(i)).ok).toBe(false);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
