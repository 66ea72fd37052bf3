import { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, expect, test } from 'vitest';
import { silentLogger } from '@hairpin/shared/runtime';
import { FakeApiServer, waitFor } from '@hairpin/testing';
import { createEventRecorder } from '../src/events.ts';

let fake: FakeApiServer | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

const ref = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  namespace: 'tenant',
  name: 'evil',
  uid: 'u-1',
};

test('an Event is created once per quiet period; a failed create never throws', async () => {
  fake = await FakeApiServer.start();
  // The refused Ingress's namespace exists (a create in a missing one is 404).
  fake.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tenant' } });
  let clock = 1_000_000;
  const events = createEventRecorder({
    api: fake.kubeConfig().makeApiClient(CoreV1Api),
    component: 'hairpin-dns-controller',
    instance: 'pod-a',
    log: silentLogger(),
    repeatAfterMs: 60_000,
    now: () => clock,
  });
  events.warn(ref, 'HostnameRefused', 'bad host');
  events.warn(ref, 'HostnameRefused', 'bad host');
  await waitFor(() => fake!.list('v1', 'Event', 'tenant').length === 1);
  const [e] = fake.list('v1', 'Event', 'tenant');
  expect(e!['type']).toBe('Warning');
  expect(e!['reason']).toBe('HostnameRefused');
  expect(e!['involvedObject']).toMatchObject({ kind: 'Ingress', name: 'evil', uid: 'u-1' });
  expect(e!['source']).toEqual({ component: 'hairpin-dns-controller' });
  expect(e!['reportingInstance']).toBe('pod-a');

  // After the quiet period the same event is recorded again.
  clock += 61_000;
  fake.failNext(1, 500, /events/);
  expect(() => events.warn(ref, 'HostnameRefused', 'bad host')).not.toThrow();
  clock += 61_000;
  events.normal(ref, 'HostnameRefused', 'bad host');
  await waitFor(() => fake!.list('v1', 'Event', 'tenant').length === 2);
  const posts = fake.requests.filter((r) => r.method === 'POST');
  expect(posts).toHaveLength(3);
});
