// The render contract through the built entrypoint, as users run it.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusFile, runNode } from '@hairpin/testing';
import { expect, test } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const original = readFileSync(corpusFile('hosts/synthetic-crlf.hosts'), 'utf8');

test('node packages/hosts-agent/dist/main.js render', async () => {
  expect(existsSync(main), 'run `pnpm build` first (pnpm test does)').toBe(true);
  const file = join(mkdtempSync(join(tmpdir(), 'hairpin-hosts-')), 'hosts');
  writeFileSync(file, original);
  const ok = await runNode(main, [
    'render',
    '--hosts-file',
    file,
    '--ip',
    'fd00::50',
    '--host',
    'shop.example.com',
  ]);
  expect(ok.stderr).toBe('');
  expect(ok.code).toBe(0);
  expect(ok.stdout).toBe(`${original}fd00::50 shop.example.com # managed by hairpin\r\n`);
  const bad = await runNode(main, ['render', '--hosts-file', file, '--ip', '300.1.1.1']);
  expect(bad.code).toBe(2);
  expect(bad.stdout).toBe('');
});
