// The dns-controller's reaction time, against the in-repo fake API server (loopback, the
// real client): from an Ingress change to the CoreDNS ConfigMap write, over many changes;
// and one reconcile of 10,000 hosts. Not a test: numbers vary with the machine.
import { CoreV1Api } from '@kubernetes/client-node';
import { silentLogger } from '@hairpin/shared/runtime';
import { applyCorefileHosts } from '@hairpin/shared';
import { FakeApiServer } from '@hairpin/testing';
import { Registry } from 'prom-client';
import { loadConfig } from '../src/config.ts';
import { DnsController } from '../src/controller.ts';
import { createEventRecorder } from '../src/events.ts';
import { createControllerMetrics } from '../src/metrics.ts';

const CHANGES = Number(process.argv[2] ?? 100);
const corefile =
  '.:53 {\n    errors\n    health\n    kubernetes cluster.local in-addr.arpa ip6.arpa\n    forward . /etc/resolv.conf\n    cache 30\n    reload\n}\n';

async function run(ingresses: number): Promise<{ fake: FakeApiServer; controller: DnsController }> {
  const fake = await FakeApiServer.start();
  fake.create({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'coredns', namespace: 'kube-system' },
    data: { Corefile: corefile },
  });
  for (let i = 0; i < ingresses; i++) {
    fake.create({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: `bulk-${i}`, namespace: `ns-${i % 50}` },
      spec: { rules: [{ host: `host-${i}.bulk.example.com` }] },
    });
  }
  const kc = fake.kubeConfig();
  const controller = new DnsController({
    kubeConfig: kc,
    config: loadConfig(['--gateway-api', 'off'], {}),
    log: silentLogger(),
    metrics: createControllerMetrics(new Registry()),
    events: createEventRecorder({
      api: kc.makeApiClient(CoreV1Api),
      component: 'bench',
      instance: 'bench',
      log: silentLogger(),
    }),
  });
  return { fake, controller };
}

const puts = (fake: FakeApiServer) =>
  fake.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/configmaps/coredns'));
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setImmediate(r));
  }
}
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

// 1. Change -> write latency (the controller's default 50 ms debounce included).
{
  const { fake, controller } = await run(0);
  controller.start();
  controller.setLeading(true);
  await until(() => controller.notReadyReason() === null);
  const latencies: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const before = puts(fake).length;
    const t0 = performance.now();
    fake.create({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: `app-${i}`, namespace: 'shop' },
      spec: { rules: [{ host: `app-${i}.example.com` }] },
    });
    await until(() => puts(fake).length > before);
    latencies.push(puts(fake).at(-1)!.at - t0);
  }
  await controller.stop();
  await fake.stop();
  console.log(
    `Ingress change -> ConfigMap write, ${CHANGES} changes: median ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms (goal: median < 100 ms, worst < 500 ms)`,
  );
}

// 2. 10,000 hosts: the pure edit alone, and start-to-write through the whole controller.
{
  const hosts = Array.from({ length: 10_000 }, (_, i) => `host-${i}.bulk.example.com`);
  const t0 = performance.now();
  const edited = applyCorefileHosts(corefile, hosts, {
    target: 'hairpin-relay.hairpin.svc.cluster.local',
  });
  const t1 = performance.now();
  applyCorefileHosts(edited, hosts, { target: 'hairpin-relay.hairpin.svc.cluster.local' });
  const t2 = performance.now();
  console.log(
    `applyCorefileHosts, 10,000 hosts: ${(t1 - t0).toFixed(0)} ms to add, ${(t2 - t1).toFixed(0)} ms to re-apply (no change)`,
  );

  const { fake, controller } = await run(10_000);
  const start = performance.now();
  controller.start();
  controller.setLeading(true);
  await until(() => puts(fake).length > 0);
  const wrote = puts(fake)[0]!.at - start;
  await controller.stop();
  await fake.stop();
  console.log(
    `controller start -> Corefile with 10,000 rules written (list of 10,000 Ingresses included): ${wrote.toFixed(0)} ms`,
  );
}
process.exit(0);
