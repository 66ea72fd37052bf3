import { describe, expect, test } from 'vitest';
import {
  clusterDomainFlag,
  durationFlag,
  flagValue,
  integerFlag,
  parseDuration,
  parseFlags,
  parseHostPort,
  relayFqdn,
} from './flags.ts';

const specs = [
  { name: 'listen', env: 'RELAY_ROUTES', repeatable: true },
  { name: 'admin', env: 'ADMIN_ADDR' },
  { name: 'hosts-file' },
  { name: 'verbose', boolean: true },
];

describe('parseFlags', () => {
  test('flags in both spellings, repeatable flags and positionals', () => {
    const f = parseFlags(
      ['render', '--listen', 'a=b', '--listen=c=d', '--hosts-file', '-', '--verbose'],
      {},
      specs,
    );
    expect(f.problems).toEqual([]);
    expect(f.positionals).toEqual(['render']);
    expect(f.values.get('listen')).toEqual(['a=b', 'c=d']);
    expect(flagValue(f, 'hosts-file')).toBe('-');
    expect(flagValue(f, 'verbose')).toBe('true');
  });

  test('environment twins, comma lists, and flags win over env', () => {
    const env = { RELAY_ROUTES: ' :1=h:2 , :3=h:4 ,', ADMIN_ADDR: ':9', HOSTS_FILE: '/x' };
    const f = parseFlags(['--admin', ':8'], env, specs);
    expect(f.values.get('listen')).toEqual([':1=h:2', ':3=h:4']);
    expect(flagValue(f, 'admin')).toBe(':8');
    expect(flagValue(f, 'hosts-file')).toBe('/x');
  });

  test('reports every problem at once', () => {
    const f = parseFlags(
      ['--nope', '--admin', '--admin=x', '--admin=y', '--hosts-file'],
      {},
      specs,
    );
    expect(f.problems).toEqual([
      'unknown flag --nope',
      '--admin needs a value',
      '--admin given more than once',
      '--hosts-file needs a value',
    ]);
    // The ones about the command line's shape, which a CLI answers alone (runtime/command.ts).
    expect(f.usageErrors).toEqual([
      'unknown flag --nope',
      '--admin needs a value',
      '--hosts-file needs a value',
    ]);
  });
});

describe('parseHostPort', () => {
  test.each([
    ['0.0.0.0:9090', { host: '0.0.0.0', port: 9090 }],
    [':8080', { host: '0.0.0.0', port: 8080 }],
    ['[::1]:80', { host: '::1', port: 80 }],
    ['ingress.svc:443', { host: 'ingress.svc', port: 443 }],
  ])('%s', (input, expected) => {
    expect(parseHostPort(input)).toEqual(expected);
  });

  test.each(['8080', '::1:80', 'host:70000', 'host:', '[::1]'])('refuses %s', (input) => {
    expect(parseHostPort(input)).toHaveProperty('error');
  });
});

describe('durations, aliases, ranges, cluster domain', () => {
  const specs = [
    { name: 'debounce' },
    { name: 'debounce-ms', aliasOf: { name: 'debounce', unitMs: 1 } },
    { name: 'workers', envAliases: ['RELAY_WORKERS'] },
    { name: 'cluster-domain' },
  ];

  test.each([
    ['250ms', 250],
    ['5s', 5_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1.5s', 1_500],
    ['7', 7_000],
  ])('parseDuration(%s)', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(['', '5 s', '-1s', '5d', 's', '1e3'])('parseDuration refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  test('a duration flag, its older unit-suffixed alias (bare numbers in its unit), and env twins', () => {
    const range = { fallbackMs: 50, minMs: 0, maxMs: 60_000 };
    const read = (argv: string[], env: Record<string, string> = {}) => {
      const problems: string[] = [];
      const ms = durationFlag(parseFlags(argv, env, specs), specs, 'debounce', range, problems);
      return { ms, problems };
    };
    expect(read([])).toEqual({ ms: 50, problems: [] });
    expect(read(['--debounce', '250ms'])).toEqual({ ms: 250, problems: [] });
    expect(read(['--debounce', '2'])).toEqual({ ms: 2_000, problems: [] });
    expect(read(['--debounce-ms', '10'])).toEqual({ ms: 10, problems: [] });
    expect(read(['--debounce-ms', '1s'])).toEqual({ ms: 1_000, problems: [] });
    expect(read([], { DEBOUNCE_MS: '20' })).toEqual({ ms: 20, problems: [] });
    expect(read(['--debounce', '30ms'], { DEBOUNCE_MS: '20' })).toEqual({ ms: 30, problems: [] });
    expect(read(['--debounce', '2m']).problems).toEqual([
      '--debounce "2m": expected a duration from 0ms to 1m',
    ]);
    expect(read(['--debounce-ms', 'soon']).problems).toEqual([
      '--debounce-ms "soon": expected a duration such as 5s, 500ms or 10m',
    ]);
  });

  test('older environment names are still read, after the twin', () => {
    expect(flagValue(parseFlags([], { RELAY_WORKERS: '3' }, specs), 'workers')).toBe('3');
    expect(flagValue(parseFlags([], { RELAY_WORKERS: '3', WORKERS: '2' }, specs), 'workers')).toBe(
      '2',
    );
  });

  test('integerFlag', () => {
    const problems: string[] = [];
    const f = parseFlags(['--workers', '2.5'], {}, specs);
    expect(integerFlag(f, 'workers', { fallback: 1, min: 1, max: 64 }, problems)).toBe(1);
    expect(problems).toEqual(['--workers "2.5": expected a whole number from 1 to 64']);
    expect(
      integerFlag(
        parseFlags([], { WORKERS: '4' }, specs),
        'workers',
        { fallback: 1, min: 1, max: 64 },
        [],
      ),
    ).toBe(4);
  });

  test('one cluster-domain rule: the flag, else resolv.conf, else cluster.local', () => {
    const resolv =
      'search hairpin.svc.corp.example svc.corp.example corp.example\nnameserver 10.96.0.10\n';
    const domain = (argv: string[], resolvConf: string | undefined) => {
      const problems: string[] = [];
      return {
        domain: clusterDomainFlag(parseFlags(argv, {}, specs), resolvConf, problems),
        problems,
      };
    };
    expect(domain([], resolv)).toEqual({ domain: 'corp.example', problems: [] });
    expect(domain([], undefined)).toEqual({ domain: 'cluster.local', problems: [] });
    expect(domain([], 'nameserver 1.1.1.1\n')).toEqual({ domain: 'cluster.local', problems: [] });
    expect(domain(['--cluster-domain', 'Local.'], resolv)).toEqual({
      domain: 'local',
      problems: [],
    });
    expect(domain(['--cluster-domain', 'a b'], resolv).problems).toEqual([
      '--cluster-domain "a b" is not a DNS name',
    ]);
    expect(relayFqdn('hairpin-relay', 'edge', 'corp.example')).toBe(
      'hairpin-relay.edge.svc.corp.example',
    );
  });
});
