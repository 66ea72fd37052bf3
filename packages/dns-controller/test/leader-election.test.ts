// Two candidates on one Lease in the fake API server: exactly one leads; the other takes
// over when the leader releases it or stops renewing. The fake refuses Lease times that
// are not MicroTime (six fractional digits), as kube-apiserver does.
import { CoordinationV1Api } from '@kubernetes/client-node';
import { createLogger, silentLogger } from '@hairpin/shared/runtime';
import { FakeApiServer } from '@hairpin/testing';
import { Registry } from 'prom-client';
import { PassThrough } from 'node:stream';
import { afterEach, expect, test } from 'vitest';
import { LeaderElector } from '../src/leader-election.ts';
import { createLeaderElectionMetrics } from '../src/metrics.ts';
import { waitFor } from './harness.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

async function pair(options: { leaseDurationMs?: number; logs?: string[] } = {}) {
  const fake = await FakeApiServer.start();
  cleanups.push(() => fake.stop());
  const api = fake.kubeConfig().makeApiClient(CoordinationV1Api);
  const make = (identity: string) => {
    const registry = new Registry();
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => options.logs?.push(c.toString()));
    const e = new LeaderElector({
      api,
      namespace: 'hairpin',
      name: 'hairpin-dns-controller',
      identity,
      leaseDurationMs: options.leaseDurationMs ?? 1_000,
      renewMs: 100,
      log: options.logs === undefined ? silentLogger() : createLogger({ level: 'info' }, sink),
      metrics: createLeaderElectionMetrics(registry),
      onStartedLeading: () => {},
      onStoppedLeading: () => {},
    });
    cleanups.push(() => e.stop());
    return { e, metrics: () => registry.metrics() };
  };
  return { fake, a: make('pod-a'), b: make('pod-b') };
}

test('exactly one of two leads; a released lease passes to the other at once', async () => {
  const {
    fake,
    a: { e: a, metrics: aMetrics },
    b: { e: b, metrics: bMetrics },
  } = await pair();
  a.start();
  await waitFor(() => a.leading);
  b.start();
  await new Promise((r) => setTimeout(r, 500));
  expect([a.leading, b.leading]).toEqual([true, false]);
  expect(await aMetrics()).toContain('hairpin_dns_leader 1');
  expect(await bMetrics()).toContain('hairpin_dns_leader 0');
  const lease = fake.get('coordination.k8s.io/v1', 'Lease', 'hairpin', 'hairpin-dns-controller');
  const spec = lease?.['spec'] as {
    holderIdentity: string;
    renewTime: string;
    acquireTime: string;
  };
  expect(spec.holderIdentity).toBe('pod-a');
  // The bytes on the wire: every Lease write carried MicroTimes.
  const writes = fake.requests.filter((r) => r.path.includes('/leases') && r.body !== undefined);
  expect(writes.length).toBeGreaterThan(1);
  for (const w of writes) {
    const sent = (JSON.parse(w.body!) as { spec: Record<string, unknown> }).spec;
    for (const field of ['renewTime', 'acquireTime'] as const)
      if (sent[field] !== undefined) expect(sent[field]).toMatch(MICRO_TIME);
  }
  await a.stop();
  await waitFor(() => b.leading, 3_000);
  expect(a.leading).toBe(false);
  expect(await aMetrics()).toContain('hairpin_dns_leader 0');
  expect(await bMetrics()).toContain('hairpin_dns_leader 1');
  expect(await aMetrics()).toContain('hairpin_dns_leader_election_errors_total 0');
});

test('a leader that cannot renew steps down; the other takes over after expiry', async () => {
  const {
    fake,
    a: { e: a },
    b: { e: b },
  } = await pair();
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

test('lease writes that keep failing: counted, one error log, /readyz reason; then recovery', async () => {
  const logs: string[] = [];
  const {
    fake,
    a: { e: a, metrics },
  } = await pair({ leaseDurationMs: 1_000, logs });
  fake.failNext(1_000, 403, /leases/);
  a.start();
  await waitFor(() => a.notReadyReason() !== null, 5_000);
  expect(a.leading).toBe(false);
  expect(a.notReadyReason()).toMatch(
    /^lease hairpin\/hairpin-dns-controller not writable for \d+ s: HTTP 403 Forbidden: injected failure$/,
  );
  expect(await metrics()).toMatch(/hairpin_dns_leader_election_errors_total ([5-9]|\d\d+)/);
  expect(await metrics()).toContain('hairpin_dns_leader 0');
  const errors = logs.filter((l) => l.includes('"level":"error"'));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toContain('the lease cannot be written');
  expect(logs.join('')).not.toContain('HTTP-Code'); // no raw client dump
  fake.clearFailures();
  await waitFor(() => a.leading, 3_000);
  expect(a.notReadyReason()).toBeNull();
  expect(logs.join('')).toContain('lease writable again');
});
