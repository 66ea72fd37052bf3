// A startup failure of the built hosts-agent: one line on stderr, no stack trace, the documented
// exit code (docs/install.md: invalid configuration 2, an address that cannot be bound 1).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { kubeStartupMismatches } from '@hairpin/testing';
import { expect, test } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

test('admin address in use, not available, or not an IP, and no cluster: one line each, exit 1 or 2', async () => {
  expect(existsSync(main), 'run `pnpm build` first (pnpm test does)').toBe(true);
  expect(await kubeStartupMismatches(main)).toEqual([]);
});
