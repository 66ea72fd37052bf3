import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusFile, captureIO } from '@hairpin/testing';
import { describe, expect, test } from 'vitest';
import { ingressesFromDocument, runRender } from './render.ts';

const kubeadm = readFileSync(corpusFile('corefiles/kubeadm-latest.Corefile'), 'utf8');
const target = 'hairpin-relay.hairpin.svc.cluster.local';

const ingressList = `apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: Ingress
  metadata: {name: shop, namespace: shop}
  spec:
    tls: [{hosts: [shop.example.com]}]
    rules: [{host: shop.example.com}, {host: "evil.example.com # injected"}]
- apiVersion: networking.k8s.io/v1
  kind: Ingress
  metadata: {name: api, namespace: api}
  spec:
    rules: [{host: API.example.com}, {host: kubernetes.default.svc.cluster.local}]
`;

describe('render', () => {
  test('--host on stdin: rules added after the root block opens', async () => {
    const io = captureIO(kubeadm);
    const code = await runRender(
      ['--corefile', '-', '--host', 'b.example.com', '--host', 'A.example.com'],
      io,
    );
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    expect(io.out().split('\n').slice(0, 3)).toEqual([
      '.:53 {',
      `    rewrite name exact a.example.com ${target} # managed by hairpin`,
      `    rewrite name exact b.example.com ${target} # managed by hairpin`,
    ]);
  });

  test('--ingresses from a kubectl List: refused hosts warned about, valid ones kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hairpin-render-'));
    writeFileSync(join(dir, 'Corefile'), kubeadm);
    const io = captureIO(ingressList);
    const code = await runRender(
      [
        '--corefile',
        join(dir, 'Corefile'),
        '--ingresses',
        '-',
        '--cluster-domain',
        'cluster.local',
      ],
      io,
    );
    expect(code).toBe(0);
    expect(io.out()).toContain(`rewrite name exact api.example.com ${target} # managed by hairpin`);
    expect(io.out()).toContain(
      `rewrite name exact shop.example.com ${target} # managed by hairpin`,
    );
    expect(io.out()).not.toContain('evil');
    expect(io.out()).not.toContain('kubernetes.default');
    expect(io.err()).toMatch(/Ingress shop\/shop: host refused \(invalid_characters\)/);
    expect(io.err()).toMatch(/Ingress api\/api: host refused \(cluster_domain\)/);
  });

  test('no hosts removes every managed rule; custom target and namespace', async () => {
    const edited = `.:53 {\n    rewrite name exact a.example.com hairpin-relay.edge.svc.corp.local # managed by hairpin\n    errors\n}\n`;
    const io = captureIO(edited, { POD_NAMESPACE: 'edge' });
    expect(await runRender(['--corefile', '-', '--cluster-domain', 'corp.local'], io)).toBe(0);
    expect(io.out()).toBe('.:53 {\n    errors\n}\n');
  });

  test.each([
    [['--corefile', '-', '--host', 'a.example.com\n}'], 'not a valid DNS name'],
    [['--corefile', '-', '--host', '10.0.0.1'], 'IP address'],
    [['--host', 'a.example.com'], '--corefile FILE|- is required'],
    [['--corefile', '-', '--bogus'], 'unknown flag --bogus'],
    [['--corefile', '/nonexistent/Corefile'], 'ENOENT'],
  ])('bad input %j: exit 2, message, nothing on stdout', async (args, message) => {
    const io = captureIO(kubeadm);
    expect(await runRender(args, io)).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toContain(message);
  });

  test('a Corefile it cannot edit safely: exit 2 naming the line, nothing on stdout', async () => {
    const io = captureIO('.:53 {\n    errors\n    proxy . 8.8.8.8\n}\n');
    expect(await runRender(['--corefile', '-', '--host', 'a.example.com'], io)).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toContain("Corefile:3 - Error during parsing: Unknown directive 'proxy'");
  });
});

describe('ingressesFromDocument', () => {
  test('a YAML alias bomb is refused before it expands', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) {
      const [name, prev] = [String.fromCharCode(97 + i), String.fromCharCode(96 + i)];
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    let error: unknown;
    try {
      ingressesFromDocument(levels.join('\n'));
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({
      code: 'HAIRPIN_INPUT',
      message: expect.stringMatching(/YAML aliases may expand at most 100 times/),
    });
    // A few aliases, as hand-written YAML may use, are fine.
    const few = 'spec: &s {rules: [{host: a.example.com}]}\nother: *s\n';
    expect(ingressesFromDocument(few)).toHaveLength(1);
  });
});

test('the cluster domain and relay FQDN follow the one rule: resolv.conf when no flag', async () => {
  const resolv = () => 'search default.svc.corp.local svc.corp.local corp.local\n';
  const io = { ...captureIO(kubeadm), readResolvConf: resolv };
  expect(await runRender(['--corefile', '-', '--host', 'shop.example.com'], io)).toBe(0);
  expect(io.out()).toContain(
    'rewrite name exact shop.example.com hairpin-relay.hairpin.svc.corp.local # managed by hairpin',
  );
});
