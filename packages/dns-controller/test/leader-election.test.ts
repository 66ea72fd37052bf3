// Two candidates on one Lease in the fake API server: exactly one leads; the other takes
// over when the leader releases it or stops renewing.
import { CoordinationV1Api } from '@kubernetes/client-node';
import { silentLogger } from '@hairpin/shared/runtime';
import { FakeApiServer } from '@hairpin/testing';
import { afterEach, expect, test } from 'vitest';
import { LeaderElector } from '../src/leader-election.ts';
import { waitFor } from './harness.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function pair() {
  const fake = await FakeApiServer.start();
  cleanups.push(() => fake.stop());
  const api = fake.kubeConfig().makeApiClient(CoordinationV1Api);
  const make = (identity: string) => {
    const e = new LeaderElector({
      api,
      namespace: 'hairpin',
      name: 'hairpin-dns-controller',
      identity,
      leaseDurationMs: 1_000,
      renewMs: 100,
      log: silentLogger(),
      onStartedLeading: () => {},
      onStoppedLeading: () => {},
    });
    cleanups.push(() => e.stop());
    return e;
  };
  return { fake, a: make('pod-a'), b: make('pod-b') };
}

test('exactly one of two leads; a released lease passes to the other at once', async () => {
  const { fake, a, b } = await pair();
  a.start();
  await waitFor(() => a.leading);
  b.start();
  await new Promise((r) => setTimeout(r, 500));
  expect([a.leading, b.leading]).toEqual([true, false]);
  const lease = fake.get('coordination.k8s.io/v1', 'Lease', 'hairpin', 'hairpin-dns-controller');
  expect((lease?.['spec'] as { holderIdentity: string }).holderIdentity).toBe('pod-a');
  await a.stop();
  await waitFor(() => b.leading, 3_000);
  expect(a.leading).toBe(false);
});

test('a leader that cannot renew steps down; the other takes over after expiry', async () => {
  const { fake, a, b } = await pair();
  a.start();
  await waitFor(() => a.leading);
  b.start();
  // a's renewals fail (as if partitioned from the apiserver); b's reads still work.
  fake.failNext(1_000, 503, /leases\/hairpin-dns-controller$/, 'PUT');
  await waitFor(() => !a.leading, 5_000);
  expect(b.leading).toBe(false); // b cannot write either while PUTs fail
  fake.clearFailures();
  await waitFor(() => a.leading !== b.leading, 5_000);
});
