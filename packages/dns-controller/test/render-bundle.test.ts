// The render contract through the built entrypoint, as users run it.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusFile, runNode } from '@hairpin/testing';
import { describe, expect, test } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const corefile = readFileSync(corpusFile('corefiles/k3s.Corefile'), 'utf8');
const IP = '10.96.0.50';
const M = '# managed by hairpin';

test('node packages/dns-controller/dist/main.js render', async () => {
  expect(existsSync(main), 'run `pnpm build` first (pnpm test does)').toBe(true);
  const ok = await runNode(
    main,
    ['render', '--corefile', '-', '--host', 'shop.example.com', '--relay-ip', IP],
    { stdin: corefile },
  );
  expect(ok.stderr).toBe('');
  expect(ok.code).toBe(0);
  // k3s's root block has its own hosts (NodeHosts, left as it is): templates answer instead.
  expect(ok.stdout).toContain(
    `.:53 {\n    template IN A { ${M}\n        match ^(?:shop\\.example\\.com)\\.$ ${M}\n        answer "{{ .Name }} 30 IN A ${IP}" ${M}\n`,
  );
  expect(ok.stdout).toContain('    hosts /etc/coredns/NodeHosts {\n      ttl 60\n');
  const back = await runNode(main, ['render', '--corefile', '-'], { stdin: ok.stdout });
  expect(back.stdout).toBe(corefile);

  const bad = await runNode(main, ['render', '--corefile', '-'], { stdin: '.:53 {\n  errors\n' });
  expect(bad.code).toBe(2);
  expect(bad.stdout).toBe('');
  expect(bad.stderr).toMatch(/HAIRPIN_COREFILE_PARSE/);

  // Hosts without the relay's address: refused before anything is read or written.
  const noIP = await runNode(main, ['render', '--corefile', '-', '--host', 'shop.example.com'], {
    stdin: corefile,
  });
  expect(noIP.code).toBe(2);
  expect(noIP.stdout).toBe('');
  expect(noIP.stderr).toMatch(
    /^hairpin-dns-controller render: --relay-ip IP is required with hosts \(kubectl -n hairpin get service hairpin-relay /,
  );
});

test('render keeps bytes that are not UTF-8, and gives the original back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hairpin-render-'));
  const file = join(dir, 'Corefile');
  const latin1 = Buffer.from('# caf\xe9\n.:53 {\n    errors # \xe9t\xe9 \xff\n}', 'latin1');
  writeFileSync(file, latin1);
  const ok = await runNode(main, [
    'render',
    '--corefile',
    file,
    '--host',
    'shop.example.com',
    '--relay-ip',
    IP,
  ]);
  expect(ok.stderr).toBe('');
  expect(ok.code).toBe(0);
  const block = [
    `    hosts /dev/null { ${M}`,
    `        ${IP} shop.example.com ${M}`,
    `        ttl 30 ${M}`,
    `        no_reverse ${M}`,
    `        fallthrough ${M}`,
    `    } ${M}`,
  ].join('\n');
  expect(ok.stdoutBytes.toString('latin1')).toBe(
    `# caf\xe9\n.:53 {\n${block}\n    errors # \xe9t\xe9 \xff\n}`,
  );
  writeFileSync(file, ok.stdoutBytes);
  const back = await runNode(main, ['render', '--corefile', file]);
  expect(back.code).toBe(0);
  expect(back.stdoutBytes.equals(latin1)).toBe(true);
});

describe('hostile --ingresses input: exit 2, one line, no stack', () => {
  // "Billion laughs": ten levels of nine aliases, 10^9 strings once expanded.
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 10; i++) {
    const name = String.fromCharCode(97 + i);
    const prev = `*${String.fromCharCode(96 + i)}`;
    levels.push(`${name}: &${name} [${Array(9).fill(prev).join(',')}]`);
  }
  const bomb = `${levels.join('\n')}\n`;

  test.each([
    ['a YAML alias bomb', ['--ingresses', '-'], bomb, /YAML aliases may expand at most 100 times/],
    ['endless input', ['--ingresses', '/dev/zero'], '', /\/dev\/zero: input is larger than 64 MiB/],
  ])('%s', async (_name, args, stdin, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'hairpin-render-'));
    writeFileSync(join(dir, 'Corefile'), corefile);
    const run = await runNode(main, ['render', '--corefile', join(dir, 'Corefile'), ...args], {
      stdin,
    });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/^hairpin-dns-controller render: HAIRPIN_INPUT: [^\n]*\n$/);
  });
});
