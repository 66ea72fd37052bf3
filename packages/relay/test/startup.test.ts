// Every startup failure of the built relay: one line on stderr, no stack trace, and the
// documented exit code (docs/install.md: invalid configuration 2, an address that cannot be
// bound 1).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  adminStartupMismatches,
  occupiedPort,
  runNode,
  UNAVAILABLE_ADDRESS,
} from '@hairpin/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
let taken: Awaited<ReturnType<typeof occupiedPort>>;
beforeAll(async () => {
  expect(existsSync(main), 'run `pnpm build` first (pnpm test does)').toBe(true);
  taken = await occupiedPort();
});
afterAll(() => taken.close());

// An IP target: nothing to resolve, nothing logged before the bind.
const target = '127.0.0.1:80';

test.each([
  {
    what: 'a listen address in use',
    args: () => ['--listen', `127.0.0.1:${taken.port}=${target}`, '--admin', '127.0.0.1:0'],
    stderr: () =>
      `fatal: cannot listen on listen address 127.0.0.1:${taken.port}: address already in use (EADDRINUSE)\n`,
  },
  {
    what: 'a listen address not on this host',
    args: () => ['--listen', `${UNAVAILABLE_ADDRESS}:8080=${target}`, '--admin', '127.0.0.1:0'],
    stderr: () =>
      `fatal: cannot listen on listen address ${UNAVAILABLE_ADDRESS}:8080: address not available on this host (EADDRNOTAVAIL)\n`,
  },
])('$what: exit 1, one line', async ({ args, stderr }) => {
  const r = await runNode(main, args());
  expect(r.stderr).toBe(stderr());
  expect(r.code).toBe(1);
});

test('the admin address failures every component shares', async () => {
  expect(await adminStartupMismatches(main, ['--listen', `127.0.0.1:0=${target}`])).toEqual([]);
});

test.each([
  {
    what: '127.0.0.1:P with 0.0.0.0:P',
    args: ['--listen', `127.0.0.1:8080=${target}`, '--listen', `0.0.0.0:8080=${target}`],
    stderr:
      'error: --listen 127.0.0.1:8080 and --listen 0.0.0.0:8080 overlap: both would listen on port 8080\n',
  },
  {
    what: '[::]:P with 0.0.0.0:P',
    args: ['--listen', `[::]:8080=${target}`, '--listen', `0.0.0.0:8080=${target}`],
    stderr:
      'error: --listen [::]:8080 and --listen 0.0.0.0:8080 overlap: both would listen on port 8080\n',
  },
  {
    what: '--admin with --listen',
    args: ['--listen', `127.0.0.1:9090=${target}`],
    stderr:
      'error: --listen 127.0.0.1:9090 and --admin 0.0.0.0:9090 overlap: both would listen on port 9090\n',
  },
  {
    what: 'a target without a host',
    args: ['--listen', '127.0.0.1:8080=:80'],
    stderr:
      'error: --listen 127.0.0.1:8080=:80: target host is empty or 0.0.0.0; name the ingress Service\n',
  },
])('$what: a configuration error, exit 2, one line', async ({ args, stderr }) => {
  const r = await runNode(main, args);
  expect(r.stderr).toBe(stderr);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(2);
});
