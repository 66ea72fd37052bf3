// The CLI contract of the built relay (DESIGN.md, CLIs): --help from the flag specs, --version
// with the baked git commit, an unknown or valueless flag as one line, bad values all at
// once, and hairpin_build_info on /metrics carrying the same version and commit.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cliContractMismatches, parseVersionLine, runNode, waitFor } from '@hairpin/testing';
import { afterEach, beforeAll, expect, test } from 'vitest';
import { RELAY_FLAGS } from '../src/config.ts';
import { DEMO_FLAGS } from '../src/demo.ts';
import { freePort } from '@hairpin/testing';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

beforeAll(() => {
  expect(existsSync(main), 'run `pnpm build` first (pnpm test does)').toBe(true);
});

test.each([
  [[], 'hairpin-relay', RELAY_FLAGS],
  [['demo'], 'hairpin-relay demo', DEMO_FLAGS],
])('%j: --help, -h, --version, an unknown flag', async (args, command, flags) => {
  expect(await cliContractMismatches(main, args, command, flags)).toEqual([]);
});

test('an unknown flag is the only line, even with no routes configured', async () => {
  const r = await runNode(main, ['--lsten', '127.0.0.1:8080=x:80']);
  expect([r.code, r.stdout, r.stderr]).toEqual([
    2,
    '',
    'error: unknown flag --lsten; see hairpin-relay --help\n',
  ]);
  const valueless = await runNode(main, ['--listen']);
  expect([valueless.code, valueless.stderr]).toEqual([
    2,
    'error: --listen needs a value; see hairpin-relay --help\n',
  ]);
});

test('bad values are still reported all at once, one line each', async () => {
  const r = await runNode(main, ['--proxy-protocol', 'v3', '--workers', '0']);
  expect(r.code).toBe(2);
  expect(r.stderr.split('\n').filter((l) => l !== '')).toEqual([
    'error: no routes: give --listen HOST:PORT=TARGET:PORT (RELAY_ROUTES) or TARGET_SERVER',
    'error: --proxy-protocol must be v1 or v2, not "v3"',
    'error: --workers "0": expected a whole number from 1 to 64',
  ]);
});

test.each([1, 2])(
  'hairpin_build_info on /metrics names the version and commit --version prints (%i worker(s))',
  async (workers) => {
    const version = parseVersionLine((await runNode(main, ['--version'])).stdout, 'hairpin-relay');
    expect(typeof version).toBe('object');
    const { version: v, commit, node } = version as Exclude<typeof version, string>;
    const admin = await freePort();
    const child = spawn(
      process.execPath,
      [
        main,
        '--listen',
        '127.0.0.1:0=127.0.0.1:9',
        '--admin',
        `127.0.0.1:${admin}`,
        '--workers',
        String(workers),
        '--log-level',
        'silent',
      ],
      { stdio: 'ignore' },
    );
    stops.push(() => child.kill('SIGKILL'));
    let text = '';
    await waitFor(async () => {
      text = await fetch(`http://127.0.0.1:${admin}/metrics`)
        .then((r) => r.text())
        .catch(() => '');
      return text.includes('hairpin_build_info');
    }, 15_000);
    const series = text.split('\n').filter((l) => l.startsWith('hairpin_build_info'));
    expect(series).toEqual([
      `hairpin_build_info{version="${v}",commit="${commit}",node_version="${node}"} 1`,
    ]);
  },
  30_000,
);
