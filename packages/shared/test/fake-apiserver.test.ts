// The fake API server, driven by the real @kubernetes/client-node, and the resilient
// informer against it (outages, dropped streams, 5xx, 410).
import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { afterEach, describe, expect, test } from 'vitest';
import { ResilientInformer, type InformerOptions } from '../src/runtime/kube.ts';
import { apiStatus, silentLogger } from '../src/runtime/index.ts';
import { FakeApiServer, waitFor } from '@hairpin/testing';

const fakes: FakeApiServer[] = [];
const informers: ResilientInformer<V1ConfigMap>[] = [];
afterEach(async () => {
  for (const i of informers.splice(0)) i.stop();
  for (const f of fakes.splice(0)) await f.stop();
});

async function start(): Promise<{ fake: FakeApiServer; api: CoreV1Api }> {
  const fake = await FakeApiServer.start({ bookmarkIntervalMs: 200 });
  fakes.push(fake);
  return { fake, api: fake.kubeConfig().makeApiClient(CoreV1Api) };
}

/** An informer on the hairpin namespace's ConfigMaps (`options` override), started; stopped after the test. */
function configMapInformer(
  fake: FakeApiServer,
  api: CoreV1Api,
  options: Partial<InformerOptions<V1ConfigMap>> = {},
): ResilientInformer<V1ConfigMap> {
  const informer = new ResilientInformer<V1ConfigMap>({
    name: 'configmaps',
    kubeConfig: fake.kubeConfig(),
    path: '/api/v1/namespaces/hairpin/configmaps',
    list: () => api.listNamespacedConfigMap({ namespace: 'hairpin' }),
    log: silentLogger(),
    ...options,
  });
  informers.push(informer);
  informer.start();
  return informer;
}

const cm = (name: string, data: Record<string, string>): V1ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'hairpin' },
  data,
});

describe('FakeApiServer with the real client', () => {
  test('create, get, list resourceVersion, 404, 409 on create and on a stale replace', async () => {
    const { api } = await start();
    const created = await api.createNamespacedConfigMap({
      namespace: 'hairpin',
      body: cm('a', { k: '1' }),
    });
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(created.metadata?.uid).toBeTruthy();
    const list = await api.listNamespacedConfigMap({ namespace: 'hairpin' });
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['a']);
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThanOrEqual(
      Number(created.metadata?.resourceVersion),
    );

    await expect(
      api.readNamespacedConfigMap({ namespace: 'hairpin', name: 'nope' }),
    ).rejects.toSatisfy((e) => apiStatus(e) === 404);
    await expect(
      api.createNamespacedConfigMap({ namespace: 'hairpin', body: cm('a', {}) }),
    ).rejects.toSatisfy((e) => apiStatus(e) === 409);

    const updated = await api.replaceNamespacedConfigMap({
      namespace: 'hairpin',
      name: 'a',
      body: { ...created, data: { k: '2' } },
    });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(
      Number(created.metadata?.resourceVersion),
    );
    // The old resourceVersion is stale now.
    await expect(
      api.replaceNamespacedConfigMap({
        namespace: 'hairpin',
        name: 'a',
        body: { ...created, data: { k: '3' } },
      }),
    ).rejects.toSatisfy((e) => apiStatus(e) === 409);
  });

  test('a replace that changes nothing keeps the resourceVersion and emits no event', async () => {
    const { fake, api } = await start();
    const created = await api.createNamespacedConfigMap({
      namespace: 'hairpin',
      body: cm('a', { k: '1' }),
    });
    const events: string[] = [];
    configMapInformer(fake, api, {
      onChange: (kind, o) => events.push(`${kind}:${o.metadata?.name}:${o.data?.['k']}`),
    });
    await waitFor(() => events.length === 1);
    const same = await api.replaceNamespacedConfigMap({
      namespace: 'hairpin',
      name: 'a',
      body: created,
    });
    expect(same.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    await api.replaceNamespacedConfigMap({
      namespace: 'hairpin',
      name: 'a',
      body: { ...same, data: { k: '2' } },
    });
    await waitFor(() => events.length === 2);
    expect(events).toEqual(['add:a:1', 'update:a:2']);
    // It watched (one list, then a watch), not polled.
    const lists = fake.requests.filter(
      (r) => r.method === 'GET' && r.path.endsWith('/configmaps') && r.query['watch'] === undefined,
    );
    expect(lists).toHaveLength(1);
    expect(fake.requests.some((r) => r.query['watch'] === 'true')).toBe(true);
  });

  test('field selectors: one ConfigMap by name; deletions are reported', async () => {
    const { fake, api } = await start();
    await api.createNamespacedConfigMap({ namespace: 'hairpin', body: cm('other', {}) });
    const events: string[] = [];
    const informer = configMapInformer(fake, api, {
      name: 'hairpin-hosts',
      fieldSelector: 'metadata.name=hairpin-hosts',
      list: () =>
        api.listNamespacedConfigMap({
          namespace: 'hairpin',
          fieldSelector: 'metadata.name=hairpin-hosts',
        }),
      onChange: (kind, o) => events.push(`${kind}:${o.metadata?.name}`),
    });
    await waitFor(() => informer.synced);
    await api.createNamespacedConfigMap({ namespace: 'hairpin', body: cm('hairpin-hosts', {}) });
    await api.deleteNamespacedConfigMap({ namespace: 'hairpin', name: 'other' });
    await api.deleteNamespacedConfigMap({ namespace: 'hairpin', name: 'hairpin-hosts' });
    await waitFor(() => events.length === 2);
    expect(events).toEqual(['add:hairpin-hosts', 'delete:hairpin-hosts']);
  });
});

test('Event field selectors, as kube-apiserver has them: reason, involvedObject.*, source', async () => {
  const { fake, api } = await start();
  for (const name of ['shop', 'infra'])
    fake.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const event = (name: string, namespace: string, reason: string, kind: string) =>
    api.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name, namespace },
        involvedObject: { kind, namespace, name: 'x' },
        reason,
        source: { component: 'hairpin-dns-controller' },
        type: 'Warning',
      },
    });
  await event('a', 'shop', 'HostnameRefused', 'Ingress');
  await event('b', 'infra', 'HostnameRefused', 'HTTPRoute');
  await event('c', 'shop', 'Other', 'Ingress');
  const names = async (fieldSelector: string) =>
    (await api.listEventForAllNamespaces({ fieldSelector })).items
      .map((e) => e.metadata?.name)
      .sort();
  expect(await names('reason=HostnameRefused')).toEqual(['a', 'b']);
  expect(await names('reason=HostnameRefused,involvedObject.kind!=Ingress')).toEqual(['b']);
  expect(await names('source=hairpin-dns-controller,type=Warning')).toEqual(['a', 'b', 'c']);
  // Not an Event field, and not a field of other kinds: 400, as the real server answers.
  await expect(names('message=x')).rejects.toMatchObject({ code: 400 });
  await expect(
    api.listConfigMapForAllNamespaces({ fieldSelector: 'reason=HostnameRefused' }),
  ).rejects.toMatchObject({ code: 400 });
});

describe('ResilientInformer', () => {
  async function watched(fake: FakeApiServer, api: CoreV1Api) {
    const names = () =>
      informer
        .list()
        .map((o) => `${o.metadata?.name}=${o.data?.['k']}`)
        .sort();
    const informer = configMapInformer(fake, api, { minBackoffMs: 20, maxBackoffMs: 200 });
    await waitFor(() => informer.synced);
    return { informer, names };
  }

  test('an apiserver that disappears and comes back: the informer resumes and catches up', async () => {
    const { fake, api } = await start();
    fake.create(cm('a', { k: '1' }));
    const { informer, names } = await watched(fake, api);
    await waitFor(() => names().join() === 'a=1');
    await fake.refuseConnections();
    // Changes while the informer cannot see them.
    fake.create(cm('b', { k: '1' }));
    fake.delete('v1', 'ConfigMap', 'hairpin', 'a');
    await new Promise((r) => setTimeout(r, 300));
    expect(names().join()).toBe('a=1'); // the cache is kept, not emptied, during an outage
    await fake.resumeConnections();
    await waitFor(() => names().join() === 'b=1');
    expect(informer.restarts).toBeGreaterThan(0);
  });

  test('5xx on list, a dropped stream and 410 Expired are all survived', async () => {
    const { fake, api } = await start();
    fake.failNext(3, 503, /configmaps$/);
    const { names } = await watched(fake, api);
    fake.create(cm('a', { k: '1' }));
    await waitFor(() => names().join() === 'a=1');
    fake.dropWatches();
    fake.create(cm('b', { k: '1' }));
    await waitFor(() => names().join() === 'a=1,b=1');
    fake.expireWatches();
    fake.create(cm('c', { k: '1' }));
    await waitFor(() => names().join() === 'a=1,b=1,c=1');
    const relists = fake.requests.filter(
      (r) => r.method === 'GET' && r.path.endsWith('/configmaps') && r.query['watch'] === undefined,
    );
    expect(relists.length).toBeGreaterThanOrEqual(2);
  });
});
