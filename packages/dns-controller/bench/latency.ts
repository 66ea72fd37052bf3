// The dns-controller's reaction time, against the in-repo fake API server (loopback, the
// real client): from an Ingress change to the CoreDNS ConfigMap write, over many changes;
// and one reconcile of 10,000 hosts. Not a test: numbers vary with the machine.
import { silentLogger } from '@hairpin/shared/runtime';
import { applyCorefileHosts } from '@hairpin/shared';
import { FakeApiServer } from '@hairpin/testing';
import { loadConfig } from '../src/config.ts';
import { runDnsController, type RunningController } from '../src/run.ts';
import { corednsConfigMap, EDIT, relayService } from '../test/harness.ts';

const CHANGES = Number(process.argv[2] ?? 100);
const corefile =
  '.:53 {\n    errors\n    health\n    kubernetes cluster.local in-addr.arpa ip6.arpa\n    forward . /etc/resolv.conf\n    cache 30\n    reload\n}\n';

async function run(
  ingresses: number,
): Promise<{ fake: FakeApiServer; start: () => Promise<RunningController> }> {
  const fake = await FakeApiServer.start();
  fake.create(corednsConfigMap(corefile));
  fake.create(relayService());
  for (let i = 0; i < ingresses; i++) {
    fake.create({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: `bulk-${i}`, namespace: `ns-${i % 50}` },
      spec: { rules: [{ host: `host-${i}.bulk.example.com` }] },
    });
  }
  const config = loadConfig(['--gateway-api', 'off', '--admin', '127.0.0.1:0'], {});
  // The process's wiring, leading without a Lease.
  const start = async () => {
    const running = await runDnsController(config, {
      kubeConfig: fake.kubeConfig(),
      log: silentLogger(),
      leaderElection: false,
    });
    running.controller.setLeading(true);
    return running;
  };
  return { fake, start };
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
  const { fake, start } = await run(0);
  const running = await start();
  await until(() => running.controller.notReadyReason() === null);
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
  await running.stop();
  await fake.stop();
  console.log(
    `Ingress change -> ConfigMap write, ${CHANGES} changes: median ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms (goal: median < 100 ms, worst < 500 ms)`,
  );
}

// 2. 10,000 hosts: the pure edit alone, and start-to-write through the whole controller.
{
  const hosts = Array.from({ length: 10_000 }, (_, i) => `host-${i}.bulk.example.com`);
  const t0 = performance.now();
  const edited = applyCorefileHosts(corefile, hosts, EDIT);
  const t1 = performance.now();
  applyCorefileHosts(edited, hosts, EDIT);
  const t2 = performance.now();
  console.log(
    `applyCorefileHosts, 10,000 hosts: ${(t1 - t0).toFixed(0)} ms to add, ${(t2 - t1).toFixed(0)} ms to re-apply (no change)`,
  );

  const { fake, start } = await run(10_000);
  const began = performance.now();
  const running = await start();
  await until(() => puts(fake).length > 0);
  const wrote = puts(fake)[0]!.at - began;
  await running.stop();
  await fake.stop();
  console.log(
    `controller start -> Corefile with 10,000 hosts written (list of 10,000 Ingresses included): ${wrote.toFixed(0)} ms`,
  );
}
process.exit(0);
