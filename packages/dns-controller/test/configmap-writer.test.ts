// The ConfigMapWriter and cleanup against the fake API server, driven by the real client.
import { CoreV1Api } from '@kubernetes/client-node';
import { apiStatus, silentLogger } from '@hairpin/shared/runtime';
import { FakeApiServer } from '@hairpin/testing';
import { afterEach, expect, test } from 'vitest';
import { cleanup } from '../src/cleanup.ts';
import { loadConfig } from '../src/config.ts';
import { ConfigMapWriter } from '../src/configmap-writer.ts';
import { renderCorefileOverride } from '@hairpin/shared';
import { corednsConfigMap, EDIT, kubeadmCorefile, rule, withHosts } from './harness.ts';

const fakes: FakeApiServer[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.stop();
});

async function setup() {
  const fake = await FakeApiServer.start();
  fakes.push(fake);
  let conflicts = 0;
  const core = fake.kubeConfig().makeApiClient(CoreV1Api);
  const writer = new ConfigMapWriter({ core, log: silentLogger(), onConflict: () => conflicts++ });
  return { fake, core, writer, conflicts: () => conflicts };
}
const t = { namespace: 'kube-system', name: 'coredns' };
const data = (fake: FakeApiServer) =>
  fake.get('v1', 'ConfigMap', 'kube-system', 'coredns')?.['data'] as Record<string, string>;

test('a stale copy: 409, re-read, edit again; a concurrent edit of another key is kept', async () => {
  const { fake, core, writer, conflicts } = await setup();
  fake.create(corednsConfigMap());
  const stale = await core.readNamespacedConfigMap({ ...t });
  fake.replace({ ...corednsConfigMap(), data: { Corefile: kubeadmCorefile, other: 'theirs' } });
  const outcome = await writer.apply(t, (d) => ({ ...d, mine: 'ours' }), { cached: stale });
  expect(outcome).toBe('updated');
  expect(conflicts()).toBe(1);
  expect(data(fake)).toEqual({ Corefile: kubeadmCorefile, other: 'theirs', mine: 'ours' });
  // Nothing to change: no write at all.
  const puts = fake.requests.filter((r) => r.method === 'PUT').length;
  expect(await writer.apply(t, () => undefined)).toBe('unchanged');
  expect(fake.requests.filter((r) => r.method === 'PUT')).toHaveLength(puts);
});

test('create-or-replace: absent is created (labels), or left absent without `create`', async () => {
  const { fake, writer } = await setup();
  const edit = () => ({ Corefile: 'x' });
  expect(await writer.apply(t, edit)).toBe('absent');
  expect(fake.get('v1', 'ConfigMap', 'kube-system', 'coredns')).toBeUndefined();
  // Someone else's create wins the race (409 AlreadyExists): re-read, then replace.
  fake.failNext(1, 409, /configmaps$/, 'POST');
  expect(await writer.apply(t, edit, { create: { labels: { a: 'b' } } })).toBe('created');
  const cm = fake.get('v1', 'ConfigMap', 'kube-system', 'coredns')!;
  expect((cm['metadata'] as { labels: unknown }).labels).toEqual({ a: 'b' });
  expect(await writer.apply(t, () => ({ Corefile: 'y' }), { create: { labels: {} } })).toBe(
    'updated',
  );
  expect(data(fake)).toEqual({ Corefile: 'y' });
  expect(await writer.delete(t)).toBe('deleted');
  expect(await writer.delete(t)).toBe('absent');
});

test('conflicts are retried a bounded number of times, then the 409 is thrown', async () => {
  const { fake, writer, conflicts } = await setup();
  fake.create(corednsConfigMap());
  fake.failNext(100, 409, /configmaps\/coredns$/, 'PUT');
  const err = await writer.apply(t, (d) => ({ ...d, x: '1' })).catch((e: unknown) => e);
  expect(apiStatus(err)).toBe(409);
  expect(conflicts()).toBe(5);
});

test('cleanup retries a 409 by re-reading, and removes every rule', async () => {
  const { fake, writer } = await setup();
  // This version's hosts block and template, and an earlier version's rule: all go.
  const withRule = withHosts(kubeadmCorefile, ['a.example.com', '*.w.example.com']).replace(
    '.:53 {\n',
    `.:53 {\n    ${rule('old.example.com')}\n`,
  );
  fake.create(corednsConfigMap(withRule));
  fake.create({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'hairpin-hosts', namespace: 'hairpin' },
    data: { hosts: 'a.example.com\n', relayIP: '10.96.0.50' },
  });
  fake.failNext(1, 409, /configmaps\/coredns$/, 'PUT');
  const problems = await cleanup(loadConfig([], {}), writer, silentLogger());
  expect(problems).toEqual([]);
  expect(data(fake)['Corefile']).toBe(kubeadmCorefile);
  expect(fake.get('v1', 'ConfigMap', 'hairpin', 'hairpin-hosts')).toBeUndefined();
  const broken = '.:53 {\n    proxy . 8.8.8.8\n}\n';
  fake.replace(corednsConfigMap(broken));
  expect(await cleanup(loadConfig([], {}), writer, silentLogger())).toEqual([
    expect.stringMatching(/^kube-system\/coredns: HAIRPIN_COREFILE_PARSE: /),
  ]);
  expect(data(fake)['Corefile']).toBe(broken);
});

test('cleanup in import mode removes hairpin.override, whatever version wrote it', async () => {
  const { fake, writer } = await setup();
  const owner = { 'log.override': 'log\n', 'corp.server': 'corp.example.com {\n    whoami\n}\n' };
  fake.create({
    ...corednsConfigMap('', 'coredns-custom'),
    data: {
      ...owner,
      'hairpin.override': `${renderCorefileOverride(['a.example.com'], EDIT)}${rule('b.example.com')}\n`,
    },
  });
  const config = loadConfig(['--import-configmap', 'kube-system/coredns-custom'], {});
  expect(await cleanup(config, writer, silentLogger())).toEqual([]);
  expect(fake.get('v1', 'ConfigMap', 'kube-system', 'coredns-custom')!['data']).toEqual(owner);
  // Idempotent: nothing left to write.
  const puts = fake.requests.filter((r) => r.method === 'PUT').length;
  expect(await cleanup(config, writer, silentLogger())).toEqual([]);
  expect(fake.requests.filter((r) => r.method === 'PUT').length).toBe(puts);
});
