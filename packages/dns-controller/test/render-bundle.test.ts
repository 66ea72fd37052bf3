// The render contract through the built entrypoint, as users run it.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { corpusFile, runNode } from '@hairpin/testing';
import { expect, test } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const corefile = readFileSync(corpusFile('corefiles/k3s.Corefile'), 'utf8');

test('node packages/dns-controller/dist/main.js render', async () => {
  expect(existsSync(main), 'run `pnpm build` first (pnpm test does)').toBe(true);
  const ok = await runNode(main, ['render', '--corefile', '-', '--host', 'shop.example.com'], {
    stdin: corefile,
  });
  expect(ok.stderr).toBe('');
  expect(ok.code).toBe(0);
  expect(ok.stdout).toContain(
    'rewrite name exact shop.example.com hairpin-relay.hairpin.svc.cluster.local # managed by hairpin',
  );
  const back = await runNode(main, ['render', '--corefile', '-'], { stdin: ok.stdout });
  expect(back.stdout).toBe(corefile);

  const bad = await runNode(main, ['render', '--corefile', '-'], { stdin: '.:53 {\n  errors\n' });
  expect(bad.code).toBe(2);
  expect(bad.stdout).toBe('');
  expect(bad.stderr).toMatch(/HAIRPIN_COREFILE_PARSE/);
});
