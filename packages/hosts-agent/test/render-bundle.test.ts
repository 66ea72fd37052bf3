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

test('render keeps bytes that are not UTF-8, and gives the original back', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'hairpin-hosts-')), 'hosts');
  const latin1 = Buffer.from('127.0.0.1 localhost\n10.0.0.9 caf\xe9.local # caf\xe9\n', 'latin1');
  writeFileSync(file, latin1);
  const args = ['render', '--ip', '10.96.0.50', '--hosts-file'];
  const ok = await runNode(main, [...args, file, '--host', 'shop.example.com']);
  expect(ok.stderr).toBe('');
  expect(ok.code).toBe(0);
  const line = Buffer.from('10.96.0.50 shop.example.com # managed by hairpin\n');
  expect(ok.stdoutBytes.equals(Buffer.concat([latin1, line]))).toBe(true);
  const back = await runNode(main, [...args, '-'], { stdin: ok.stdoutBytes });
  expect(back.code).toBe(0);
  expect(back.stdoutBytes.equals(latin1)).toBe(true);
});
