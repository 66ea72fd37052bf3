import { describe, expect, test } from 'vitest';
import { flagValue, parseFlags, parseHostPort } from './flags.ts';

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
