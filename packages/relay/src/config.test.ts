import { availableParallelism } from 'node:os';
import { ConfigError } from '@hairpin/shared';
import { describe, expect, test } from 'vitest';
import { listenersOverlap, loadConfig } from './config.ts';

function problemsOf(argv: string[], env: Record<string, string> = {}): readonly string[] {
  try {
    loadConfig(argv, env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

const route = (listen: string) => ['--listen', `${listen}=ingress.example:80`];

describe('listen addresses that would collide at bind time', () => {
  test.each([
    ['127.0.0.1', '0.0.0.0'],
    ['0.0.0.0', '127.0.0.1'],
    ['::', '0.0.0.0'],
    ['::', '127.0.0.1'],
    ['::1', '::'],
    ['::1', '0:0:0:0:0:0:0:1'],
    ['10.0.0.1', '10.0.0.1'],
  ])('%s and %s on one port overlap', (a, b) => {
    expect(listenersOverlap({ host: a, port: 8080 }, { host: b, port: 8080 })).toBe(true);
  });

  test.each([
    ['127.0.0.1', '127.0.0.2', 8080, 8080],
    ['::1', '127.0.0.1', 8080, 8080],
    ['::1', '0.0.0.0', 8080, 8080],
    ['0.0.0.0', '0.0.0.0', 8080, 8081],
    ['127.0.0.1', '127.0.0.1', 0, 0],
  ])('%s:%i and %s:%i do not', (a, b, pa, pb) => {
    expect(listenersOverlap({ host: a, port: pa }, { host: b, port: pb })).toBe(false);
  });

  test('overlapping --listen flags, and --admin with --listen, are configuration errors', () => {
    expect(problemsOf([...route('127.0.0.1:8080'), ...route('0.0.0.0:8080')])).toEqual([
      '--listen 127.0.0.1:8080 and --listen 0.0.0.0:8080 overlap: both would listen on port 8080',
    ]);
    expect(problemsOf([...route('[::]:8080'), ...route('0.0.0.0:8080')])).toEqual([
      '--listen [::]:8080 and --listen 0.0.0.0:8080 overlap: both would listen on port 8080',
    ]);
    expect(problemsOf([...route('0.0.0.0:8080'), ...route(':8080')])).toEqual([
      '--listen 0.0.0.0:8080 given twice',
    ]);
    // The default admin address is 0.0.0.0:9090.
    expect(problemsOf(route('127.0.0.1:9090'))).toEqual([
      '--listen 127.0.0.1:9090 and --admin 0.0.0.0:9090 overlap: both would listen on port 9090',
    ]);
    expect(problemsOf([...route('127.0.0.1:9090'), '--admin', '127.0.0.2:9090'])).toEqual([]);
    expect(problemsOf(route('127.0.0.1:0'), { ADMIN_ADDR: '127.0.0.1:0' })).toEqual([]);
  });
});

describe('addresses', () => {
  test('a target without a host is refused, not read as 0.0.0.0', () => {
    expect(problemsOf(['--listen', '127.0.0.1:8080=:80'])).toEqual([
      '--listen 127.0.0.1:8080=:80: target host is empty or 0.0.0.0; name the ingress Service',
    ]);
    expect(problemsOf(['--listen', '127.0.0.1:8080=0.0.0.0:80'])).toHaveLength(1);
    expect(problemsOf(['--listen', '127.0.0.1:8080=[::]:80'])).toHaveLength(1);
    expect(problemsOf(['--listen', '127.0.0.1:8080=[::1]:80'])).toEqual([]);
  });

  test('--admin must be an IP address: a name would be resolved at bind time', () => {
    expect(problemsOf([...route(':8080'), '--admin', '999.1.1.1:9090'])).toEqual([
      '--admin "999.1.1.1:9090": host must be an IP address (0.0.0.0 for every interface)',
    ]);
    expect(problemsOf(route(':8080'), { ADMIN_ADDR: 'localhost:9090' })).toHaveLength(1);
    expect(loadConfig([...route(':8080'), '--admin', '[::1]:9091'], {}).admin).toEqual({
      host: '::1',
      port: 9091,
    });
    expect(loadConfig([...route(':8080'), '--admin', ':9091'], {}).admin.host).toBe('0.0.0.0');
  });
});

test('--hold-nx: default 30 s like HAProxy, env twin, flag wins, checked', () => {
  expect(loadConfig(route(':8080'), {}).holdNxMs).toBe(30_000);
  expect(loadConfig(route(':8080'), { HOLD_NX: '5s' }).holdNxMs).toBe(5_000);
  expect(loadConfig([...route(':8080'), '--hold-nx', '0'], { HOLD_NX: '5s' }).holdNxMs).toBe(0);
  expect(problemsOf([...route(':8080'), '--hold-nx', 'forever'])).toEqual([
    '--hold-nx "forever": expected a duration such as 5s, 500ms or 10m',
  ]);
});

describe('workers and the connection limit', () => {
  test('--workers auto is one per CPU; a number is taken as is; anything else is refused', () => {
    expect(loadConfig([...route('0.0.0.0:8080'), '--workers', 'auto'], {}).workers).toBe(
      Math.min(64, availableParallelism()),
    );
    expect(loadConfig(route('0.0.0.0:8080'), { RELAY_WORKERS: '3' }).workers).toBe(3);
    expect(problemsOf([...route('0.0.0.0:8080'), '--workers', 'many'])).toEqual([
      '--workers "many": expected a whole number from 1 to 64',
    ]);
  });

  test('--max-connections: given, or left to the open-file limit (undefined)', () => {
    expect(loadConfig(route('0.0.0.0:8080'), {}).maxConnections).toBeUndefined();
    expect(
      loadConfig([...route('0.0.0.0:8080'), '--max-connections', '500'], {}).maxConnections,
    ).toBe(500);
  });
});
