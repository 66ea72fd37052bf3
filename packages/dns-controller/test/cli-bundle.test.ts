// The CLI contract of the built dns-controller and its subcommands (DESIGN.md, CLIs): --help
// generated from the flag specs, --version with the baked git commit, an unknown flag as
// one line pointing at --help (before any cluster is looked for).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cliContractMismatches, runNode } from '@hairpin/testing';
import { expect, test } from 'vitest';
import { FORCE_FLAG, OUTPUT_FLAG } from '../src/commands.ts';
import { CONTROLLER_FLAGS } from '../src/config.ts';
import { RENDER_FLAGS } from '../src/render.ts';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

test.each([
  [[], 'hairpin-dns-controller', CONTROLLER_FLAGS],
  [['render'], 'hairpin-dns-controller render', RENDER_FLAGS],
  [['status'], 'hairpin-dns-controller status', [OUTPUT_FLAG, ...CONTROLLER_FLAGS]],
  [['cleanup'], 'hairpin-dns-controller cleanup', [FORCE_FLAG, ...CONTROLLER_FLAGS]],
])('%j: --help, -h, --version, an unknown flag', async (args, command, flags) => {
  expect(existsSync(main), 'run `pnpm build` first (pnpm test does)').toBe(true);
  expect(await cliContractMismatches(main, args, command, flags)).toEqual([]);
});

test('the top-level help lists the subcommands', async () => {
  const r = await runNode(main, ['--help']);
  for (const command of ['render', 'status', 'cleanup']) {
    expect(r.stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
  }
});

test('status -o is not an unknown flag; -x is, as one line', async () => {
  const r = await runNode(main, ['status', '-x'], { env: { HOME: '/nonexistent' } });
  expect([r.code, r.stderr]).toEqual([
    2,
    'error: unknown flag -x; see hairpin-dns-controller status --help\n',
  ]);
  const o = await runNode(main, ['status', '-o', 'yaml']);
  expect([o.code, o.stderr]).toEqual([2, 'error: --output "yaml": expected text or json\n']);
});
