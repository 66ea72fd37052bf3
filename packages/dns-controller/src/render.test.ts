import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { managedCorefileHosts } from '@hairpin/shared';
import { corpusFile, captureIO } from '@hairpin/testing';
import { describe, expect, test } from 'vitest';
import { ingressesFromDocument, runRender } from './render.ts';

const kubeadm = readFileSync(corpusFile('corefiles/kubeadm-latest.Corefile'), 'utf8');
const target = 'hairpin-relay.hairpin.svc.cluster.local';
const IP = '10.96.0.50';
const IP6 = 'fd00::50';
const M = '# managed by hairpin';

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
  test('--host on stdin: a hosts block to the --relay-ip added after the root block opens', async () => {
    const io = captureIO(kubeadm);
    const code = await runRender(
      ['--corefile', '-', '--host', 'b.example.com', '--host', 'A.example.com', '--relay-ip', IP],
      io,
    );
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    expect(io.out().split('\n').slice(0, 8)).toEqual([
      '.:53 {',
      `    hosts /dev/null { ${M}`,
      `        ${IP} a.example.com b.example.com ${M}`,
      `        ttl 30 ${M}`,
      `        no_reverse ${M}`,
      `        fallthrough ${M}`,
      `    } ${M}`,
      '    errors',
    ]);
    // Without hosts (and without --relay-ip) it gives the original back.
    const back = captureIO(io.out());
    expect(await runRender(['--corefile', '-'], back)).toBe(0);
    expect(back.out()).toBe(kubeadm);
  });

  test('--relay-ip twice (dual-stack): each name answers both, wildcards too', async () => {
    const io = captureIO(kubeadm);
    const args = ['--corefile', '-', '--host', 'a.example.com', '--host', '*.apps.example.com'];
    expect(await runRender([...args, '--relay-ip', IP6, '--relay-ip', IP], io)).toBe(0);
    expect(io.err()).toBe('');
    expect(io.out()).toContain(
      `\n        ${IP} a.example.com ${M}\n        ${IP6} a.example.com ${M}\n`,
    );
    expect(io.out()).toContain(`answer "{{ .Name }} 30 IN A ${IP}" ${M}`);
    expect(io.out()).toContain(`answer "{{ .Name }} 30 IN AAAA ${IP6}" ${M}`);
    expect(managedCorefileHosts(io.out(), { target })).toEqual([
      '*.apps.example.com',
      'a.example.com',
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
        '--relay-ip',
        IP,
      ],
      io,
    );
    expect(code).toBe(0);
    expect(managedCorefileHosts(io.out(), { target })).toEqual([
      'api.example.com',
      'shop.example.com',
    ]);
    expect(io.out()).toContain(`\n        ${IP} api.example.com shop.example.com ${M}\n`);
    expect(io.out()).not.toContain('evil');
    expect(io.out()).not.toContain('kubernetes.default');
    expect(io.err()).toMatch(/Ingress shop\/shop: host refused \(invalid_characters\)/);
    expect(io.err()).toMatch(/Ingress api\/api: host refused \(cluster_domain\)/);
  });

  test('no hosts removes every managed rule; custom target and namespace', async () => {
    const edited = `.:53 {\n    rewrite name exact a.example.com hairpin-relay.edge.svc.corp.local\n    errors\n}\n`;
    const io = captureIO(edited, { POD_NAMESPACE: 'edge' });
    expect(await runRender(['--corefile', '-', '--cluster-domain', 'corp.local'], io)).toBe(0);
    expect(io.out()).toBe('.:53 {\n    errors\n}\n');
    // Another namespace's relay is not ours: its unmarked rule stays.
    const other = captureIO(edited, { POD_NAMESPACE: 'hairpin' });
    expect(await runRender(['--corefile', '-', '--cluster-domain', 'corp.local'], other)).toBe(0);
    expect(other.out()).toBe(edited);
    // The current form needs no --relay-ip to be removed.
    const current = captureIO(kubeadm);
    await runRender(['--corefile', '-', '--host', 'a.example.com', '--relay-ip', IP], current);
    const removed = captureIO(current.out());
    expect(await runRender(['--corefile', '-'], removed)).toBe(0);
    expect(removed.out()).toBe(kubeadm);
  });

  test.each([
    [['--corefile', '-', '--host', 'a.example.com\n}'], 'not a valid DNS name'],
    [['--corefile', '-', '--host', '10.0.0.1'], 'IP address'],
    [['--host', 'a.example.com'], '--corefile FILE|- is required'],
    [['--corefile', '-', '--bogus'], 'unknown flag --bogus'],
    [['--corefile', '/nonexistent/Corefile'], 'ENOENT'],
    [['--corefile', '-', '--host', 'a.example.com'], '--relay-ip IP is required with hosts'],
    [
      ['--corefile', '-', '--host', 'a.example.com', '--relay-ip', 'relay.local'],
      'is not an IP address',
    ],
    [
      ['--corefile', '-', '--host', 'a.example.com', '--relay-ip', IP, '--relay-ip', '10.96.0.51'],
      'of the same family',
    ],
  ])('bad input %j: exit 2, message, nothing on stdout', async (args, message) => {
    const io = captureIO(kubeadm);
    expect(await runRender(args, io)).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toContain(message);
  });

  test('a Corefile it cannot edit safely: exit 2 naming the line, nothing on stdout', async () => {
    const io = captureIO('.:53 {\n    errors\n    proxy . 8.8.8.8\n}\n');
    expect(
      await runRender(['--corefile', '-', '--host', 'a.example.com', '--relay-ip', IP], io),
    ).toBe(2);
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
  // Earlier versions' unmarked rules are recognised by their target, the relay's FQDN.
  const legacy = (fqdn: string) => `    rewrite name exact old.example.com ${fqdn}\n`;
  const src = kubeadm.replace(
    '.:53 {\n',
    `.:53 {\n${legacy('hairpin-relay.hairpin.svc.corp.local')}${legacy(target)}`,
  );
  const io = { ...captureIO(src), readResolvConf: resolv };
  const args = ['--corefile', '-', '--host', 'shop.example.com', '--relay-ip', IP];
  expect(await runRender(args, io)).toBe(0);
  expect(io.err()).toBe('');
  expect(io.out()).not.toContain('hairpin-relay.hairpin.svc.corp.local');
  expect(io.out()).toContain(legacy(target));
  expect(io.out()).toContain(`\n        ${IP} shop.example.com ${M}\n`);
  // The cluster's own names are refused under that domain.
  const refused = { ...captureIO(kubeadm), readResolvConf: resolv };
  expect(
    await runRender(['--corefile', '-', '--host', 'x.svc.corp.local', '--relay-ip', IP], refused),
  ).toBe(2);
  expect(refused.err()).toContain('"x.svc.corp.local" is under the cluster domain corp.local');
});
