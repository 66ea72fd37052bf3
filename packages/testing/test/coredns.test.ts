// The real-CoreDNS helpers: finding the binary, starting it on a free loopback port, its
// stub `kubernetes` Services, extra files, reload, CoreDNS's own message on a failed start,
// and prepareCorefile on corpus files answering cluster and public names.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  coreDNSMissing,
  corpusFile,
  describeWithCoreDNS,
  findCoreDNS,
  prepareCorefile,
  startCoreDNS,
  startStubUpstream,
  type RunningCoreDNS,
  type StubUpstream,
} from '../src/index.ts';
import { readFileSync } from 'node:fs';

describe('finding CoreDNS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hairpin-find-coredns-'));
  const fake = join(dir, 'coredns');
  writeFileSync(fake, '#!/bin/sh\n');
  chmodSync(fake, 0o755);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('HAIRPIN_COREDNS first, then coredns on PATH, else none', () => {
    expect(findCoreDNS({ HAIRPIN_COREDNS: fake, PATH: '' })).toBe(fake);
    expect(findCoreDNS({ PATH: `/nonexistent:${dir}` })).toBe(fake);
    expect(findCoreDNS({ PATH: '/nonexistent' })).toBeUndefined();
    expect(() => findCoreDNS({ HAIRPIN_COREDNS: join(dir, 'missing') })).toThrow(
      `HAIRPIN_COREDNS=${join(dir, 'missing')} is not an executable file`,
    );
  });

  test('missing: one line to skip with, or a failure where CI requires it', () => {
    expect(coreDNSMissing({ PATH: dir })).toBeUndefined();
    expect(coreDNSMissing({ PATH: '/nonexistent' })).toBe(
      'no coredns on PATH and HAIRPIN_COREDNS is not set: CoreDNS tests skipped',
    );
    expect(() => coreDNSMissing({ PATH: '/nonexistent', HAIRPIN_REQUIRE_PEERS: '1' })).toThrow(
      'no coredns on PATH',
    );
  });
});

describeWithCoreDNS('startCoreDNS', () => {
  let stub: StubUpstream;
  const running: RunningCoreDNS[] = [];
  const start = async (...args: Parameters<typeof startCoreDNS>) => {
    const c = await startCoreDNS(...args);
    running.push(c);
    return c;
  };
  beforeAll(async () => {
    stub = await startStubUpstream();
  });
  afterAll(async () => {
    for (const c of running) await c.stop();
    await stub?.stop();
  });

  test('serves the stub kubernetes Services, the stub upstream and files given to it', async () => {
    const c = await start({
      corefile: [
        '. {',
        '    bind 127.0.0.1',
        '    kubernetes cluster.local',
        '    import custom/*.override',
        `    forward . ${stub.address}`,
        '}',
        '',
      ].join('\n'),
      records: { 'web.shop.svc.cluster.local': '10.96.1.2' },
      files: {
        'custom/extra.override': 'hosts {\n    10.1.2.3 extra.example.com\n    fallthrough\n}\n',
      },
    });
    expect((await c.query('web.shop.svc.cluster.local')).answers).toEqual([
      { name: 'web.shop.svc.cluster.local.', type: 'A', class: 1, ttl: 5, data: '10.96.1.2' },
    ]);
    expect((await c.query('nothere.shop.svc.cluster.local')).rcode).toBe('NXDOMAIN');
    // The hosts plugin answers under its own (lower-case) name, whatever the question's case.
    expect((await c.query('Extra.Example.com')).answers).toMatchObject([
      { name: 'extra.example.com.', data: '10.1.2.3' },
    ]);
    expect((await c.query('shop.example.com', 'AAAA')).answers).toMatchObject([
      { name: 'shop.example.com.', data: '2001:db8::10' },
    ]);
  });

  test('reload: a new Corefile is served; a refused one keeps the old and says why', async () => {
    const corefile = (ip: string) =>
      `. {\n    bind 127.0.0.1\n    hosts {\n        ${ip} r.example.com\n    }\n}\n`;
    const c = await start({ corefile: corefile('10.0.0.1') });
    expect((await c.query('r.example.com')).answers[0]?.data).toBe('10.0.0.1');
    await c.reload(corefile('10.0.0.2'));
    expect((await c.query('r.example.com')).answers[0]?.data).toBe('10.0.0.2');
    await expect(c.reload('. {\n    bind 127.0.0.1\n    nosuchplugin\n}\n')).rejects.toThrow(
      "Unknown directive 'nosuchplugin'",
    );
    expect((await c.query('r.example.com')).answers[0]?.data).toBe('10.0.0.2');
  });

  test('a Corefile CoreDNS refuses: the start fails with CoreDNS’s own message', async () => {
    const hosts = '    hosts {\n        10.0.0.1 a.example\n    }\n';
    await expect(
      start({ corefile: `. {\n    bind 127.0.0.1\n${hosts}${hosts}}\n` }),
    ).rejects.toThrow(
      /exited with code 1 at start:\n.*this plugin can only be used once per Server Block/,
    );
    await expect(
      start({
        corefile: '. {\n    bind 127.0.0.1\n    kubernetes cluster.local\n}\n',
        records: { 'bad entry': '1' },
      }),
    ).rejects.toThrow(/exited with code 1 at start:\n.*bad entry/s);
  });

  const publicAndCluster = async (c: RunningCoreDNS) => {
    expect((await c.query('shop.example.com')).answers).toMatchObject([
      { name: 'shop.example.com.', type: 'A', data: '192.0.2.10' },
    ]);
    expect((await c.query('kube-dns.kube-system.svc.cluster.local')).answers).toMatchObject([
      { name: 'kube-dns.kube-system.svc.cluster.local.', type: 'A', data: '10.96.0.10' },
    ]);
    expect((await c.query('missing.example.net')).rcode).toBe('NXDOMAIN');
  };

  test('prepareCorefile: kubeadm’s Corefile answers a cluster Service and a public name', async () => {
    const text = readFileSync(corpusFile('corefiles/kubeadm-latest.Corefile'), 'utf8');
    const c = await start({ corefile: prepareCorefile(text, { upstream: stub.address }) });
    await publicAndCluster(c);
  });

  test('prepareCorefile: k3s’s Corefile, with its NodeHosts and a custom override file', async () => {
    const text = readFileSync(corpusFile('corefiles/k3s.Corefile'), 'utf8');
    const c = await start({
      corefile: prepareCorefile(text, { upstream: stub.address }),
      files: {
        NodeHosts: '192.168.1.5 node-1\n',
        'custom/log.override': 'log\n',
      },
    });
    await publicAndCluster(c);
    expect((await c.query('node-1')).answers).toMatchObject([{ data: '192.168.1.5' }]);
    expect(c.output()).toMatch(/"A IN shop.example.com. udp/);
  });
});
