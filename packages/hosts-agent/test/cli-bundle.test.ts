// The CLI contract of the built hosts agent (DESIGN.md, CLIs): --help generated from the flag
// specs, --version with the baked git commit, an unknown flag as one line pointing at --help.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cliContractMismatches, runNode } from '@hairpin/testing';
import { expect, test } from 'vitest';
import { AGENT_FLAGS } from '../src/config.ts';
import { RENDER_FLAGS } from '../src/render.ts';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

test.each([
  [[], 'hairpin-hosts-agent', AGENT_FLAGS],
  [['render'], 'hairpin-hosts-agent render', RENDER_FLAGS],
])('%j: --help, -h, --version, an unknown flag', async (args, command, flags) => {
  expect(existsSync(main), 'run `pnpm build` first (pnpm test does)').toBe(true);
  expect(await cliContractMismatches(main, args, command, flags)).toEqual([]);
});

test('render: an unknown flag is the only line, not followed by the missing ones', async () => {
  const r = await runNode(main, ['render', '--hostsfile', '-']);
  expect([r.code, r.stdout, r.stderr]).toEqual([
    2,
    '',
    'error: unknown flag --hostsfile; see hairpin-hosts-agent render --help\n',
  ]);
});
