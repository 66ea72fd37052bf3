// The dns-controller at scale (issue 19), against the in-repo fake API server: the real
// bundle (dist/main.js) as a process, Ingresses of 10 hosts each carrying what a real
// apiserver adds (managedFields, the last-applied annotation). Per size: start -> all
// written, one change -> written (median of 5), RSS after sync / after reconciles / peak
// (VmRSS, VmHWM from /proc), CPU per change (utime+stime of the whole process for one
// change: the watch events, the reconcile, the writes, the collector's threads), and over
// the 5 changes the reconciles that planned, their main-thread CPU
// (hairpin_dns_reconcile_cpu_seconds: the plan, its writes, and what the thread handled
// while waiting on them, garbage collection included), how many took <= 100 ms of it, and
// their wall time (hairpin_dns_reconcile_seconds). The bundle runs with the Node flags of
// the Deployment in manifests/20-dns-controller.yaml. Then issue 19's over-capacity
// scenario (60,000 hosts), and the fake API server alone holding 200,000 hosts. Not a test.
//   node packages/dns-controller/bench/scale.ts [hosts...]   (default 1000 10000 20000)
//   node packages/dns-controller/bench/scale.ts --over-capacity
//   SCALE_NODE_FLAGS="..."   other Node flags (space-separated)
//   SCALE_BUNDLE=<main.js>   another build (an earlier commit's, for an A/B)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FakeApiServer, manifestNodeFlags, waitFor } from '@hairpin/testing';
import { median } from '../../../bench/stats.ts';
import { managedCorefileHosts } from '@hairpin/shared';
import { corednsConfigMap, RELAY, RELAY_IP, relayService } from '../test/harness.ts';

const args = process.argv.slice(2);
const OVER = args.includes('--over-capacity');
const SIZES = args.filter((a) => a !== '--over-capacity').map(Number);
const sizes = SIZES.length > 0 ? SIZES : OVER ? [] : [1_000, 10_000, 20_000];
const PER_INGRESS = 10;
const BUNDLE = process.env['SCALE_BUNDLE'] ?? new URL('../dist/main.js', import.meta.url).pathname;
const corefile =
  '.:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n';
const CLK_TCK = 100;
const FAKE_HOSTS = 200_000;

const given = process.env['SCALE_NODE_FLAGS'];
const NODE_FLAGS =
  given === undefined
    ? manifestNodeFlags(
        fileURLToPath(new URL('../../../manifests/20-dns-controller.yaml', import.meta.url)),
        'dns-controller',
      )
    : given.split(' ').filter(Boolean);

function ingress(i: number): Record<string, unknown> {
  const hosts = Array.from(
    { length: PER_INGRESS },
    (_, j) => `app-${i}-${j}.team-${i % 97}.example.com`,
  );
  const spec = {
    ingressClassName: 'nginx',
    tls: [{ hosts, secretName: `tls-${i}` }],
    rules: hosts.map((host) => ({
      host,
      http: {
        paths: [
          {
            path: '/',
            pathType: 'Prefix',
            backend: { service: { name: `svc-${i}`, port: { number: 80 } } },
          },
        ],
      },
    })),
  };
  const metadata = { name: `ing-${i}`, namespace: `ns-${i % 200}` };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      ...metadata,
      labels: { app: `app-${i}`, 'app.kubernetes.io/managed-by': 'Helm' },
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata,
          spec,
        }),
        'nginx.ingress.kubernetes.io/proxy-body-size': '0',
      },
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          apiVersion: 'networking.k8s.io/v1',
          time: '2024-01-01T00:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:spec': Object.fromEntries(
              hosts.map((h) => [
                `k:{"host":"${h}"}`,
                { '.': {}, 'f:host': {}, 'f:http': { 'f:paths': {} } },
              ]),
            ),
          },
        },
      ],
    },
    spec,
  };
}

function proc(pid: number): { rss: number; hwm: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024, cpuMs: (ticks * 1000) / CLK_TCK };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for `check`, polled every 5 ms: the times measured are to a write. */
const until = (check: () => boolean, timeoutMs = 120_000) => waitFor(check, timeoutMs, 5);

interface Row {
  hosts: number;
  startMs: number;
  changeMs: number;
  rssSync: number;
  rssAfter: number;
  peak: number;
  cpuMs: number;
  reconcileMs: number;
  served: number;
  notServed: string;
  corednsWrites: number;
  reconciles: number;
  reconcileCpuMs: number;
  within100: number;
}

/**
 * The fake API server holding the CoreDNS ConfigMap, the relay Service and `ingresses`
 * Ingresses, and the bundle started against it (its admin server on `port`, its log on the
 * child's stdout when `log` is set).
 */
async function startScenario(ingresses: number, args: string[], log?: 'info') {
  const fake = await FakeApiServer.start();
  fake.create(corednsConfigMap(corefile));
  fake.create(relayService());
  for (let i = 0; i < ingresses; i++) fake.create(ingress(i));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const began = performance.now();
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, BUNDLE, '--gateway-api', 'off', '--admin', `127.0.0.1:${port}`, ...args],
    {
      env: { KUBECONFIG: fake.kubeconfigFile(), POD_NAME: 'bench', LOG_LEVEL: log ?? 'warn' },
      stdio: ['ignore', log === undefined ? 'ignore' : 'pipe', 'inherit'],
    },
  );
  return {
    fake,
    child,
    port,
    began,
    corednsPuts: () =>
      fake.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/configmaps/coredns')),
    published: () =>
      (fake.get('v1', 'ConfigMap', 'hairpin', 'hairpin-hosts')?.['data'] ?? {}) as Record<
        string,
        string
      >,
    async stop(): Promise<void> {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await fake.stop();
    },
  };
}

async function measure(total: number): Promise<Row> {
  const ingresses = Math.ceil(total / PER_INGRESS);
  const scenario = await startScenario(ingresses, ['--ingress-class', 'nginx']);
  const { fake, port, began, corednsPuts, published } = scenario;
  const servedCount = () => (published()['hosts'] ?? '').split('\n').length - 1;
  const pid = scenario.child.pid!;
  try {
    await until(() => servedCount() > 0 && corednsPuts().length > 0);
    await until(
      () => published()['notServedCount'] !== undefined || servedCount() >= total,
      60_000,
    ).catch(() => undefined);
    const startMs = performance.now() - began;
    await sleep(1_000);
    const rssSync = proc(pid).rss;
    const metrics = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
      return {
        sum: value('hairpin_dns_reconcile_seconds_sum'),
        count: value('hairpin_dns_reconcile_seconds_count'),
        cpu: value('hairpin_dns_reconcile_cpu_seconds_sum'),
        cpuWithin100: Number(
          /^hairpin_dns_reconcile_cpu_seconds_bucket\{le="0.1"\} (\S+)$/m.exec(text)?.[1],
        ),
      };
    };
    const m0 = await metrics();
    // Changes: one Ingress each, timed to the Corefile write; CPU of each reconcile.
    const changes: number[] = [];
    const cpu: number[] = [];
    for (let c = 0; c < 5; c++) {
      await sleep(500);
      const before = corednsPuts().length;
      const cpu0 = proc(pid).cpuMs;
      const t0 = performance.now();
      fake.create(ingress(ingresses + c));
      await until(() => corednsPuts().length > before, 30_000).catch(() => undefined);
      changes.push(performance.now() - t0);
      await sleep(300);
      cpu.push(proc(pid).cpuMs - cpu0);
    }
    await sleep(1_000);
    const m1 = await metrics();
    const after = proc(pid);
    return {
      hosts: total,
      startMs,
      changeMs: median(changes),
      rssSync,
      rssAfter: after.rss,
      peak: after.hwm,
      cpuMs: median(cpu),
      reconcileMs: ((m1.sum - m0.sum) * 1000) / Math.max(1, m1.count - m0.count),
      reconciles: m1.count - m0.count,
      reconcileCpuMs: ((m1.cpu - m0.cpu) * 1000) / Math.max(1, m1.count - m0.count),
      within100: m1.cpuWithin100 - m0.cpuWithin100,
      served: servedCount(),
      notServed: published()['notServedCount'] ?? '0',
      corednsWrites: corednsPuts().length,
    };
  } finally {
    await scenario.stop();
  }
}

/** The fake API server alone holding FAKE_HOSTS hosts: what it takes, whether it serves. */
async function fakeAtScale(): Promise<string> {
  const rss0 = process.memoryUsage().rss;
  const began = performance.now();
  const fake = await FakeApiServer.start();
  try {
    const ingresses = FAKE_HOSTS / PER_INGRESS;
    for (let i = 0; i < ingresses; i++) fake.create(ingress(i));
    const createdMs = performance.now() - began;
    // One list of them all, in pages, as the controller reads them.
    const t0 = performance.now();
    let listed = 0;
    let next: string | undefined;
    do {
      const query = `limit=500${next === undefined ? '' : `&continue=${encodeURIComponent(next)}`}`;
      const res = await fetch(`${fake.url}/apis/networking.k8s.io/v1/ingresses?${query}`);
      const page = (await res.json()) as { items: unknown[]; metadata?: { continue?: string } };
      listed += page.items.length;
      next = page.metadata?.continue || undefined;
    } while (next !== undefined);
    const listMs = performance.now() - t0;
    const rss = (process.memoryUsage().rss - rss0) / 1048576;
    return `fake API server: ${FAKE_HOSTS} hosts (${ingresses} Ingresses) created in ${cell(createdMs)} ms, listed (${listed} in pages of 500) in ${cell(listMs)} ms, RSS +${cell(rss)} MB (peak ${cell(proc(process.pid).hwm)} MB)`;
  } finally {
    await fake.stop();
  }
}

/**
 * Issue 19's over-capacity target: 60,000 hosts (three times what fits) before the start,
 * then back to 20,000. Over capacity must be reported (status, metric, Event); in the 90 s
 * after the inputs stop changing, at most 3 writes of the CoreDNS ConfigMap and at most 1
 * refused; hairpin-hosts equal to what DNS serves; no log line over 2,000 characters; back
 * at 20,000, all served within 15 s.
 */
async function overCapacity(): Promise<string[]> {
  const total = 60_000;
  const back = 20_000;
  const ingresses = total / PER_INGRESS;
  const scenario = await startScenario(ingresses, [], 'info');
  const { fake, child, port, began, corednsPuts, published } = scenario;
  const lines = (text: string | undefined) => (text ?? '').split('\n').filter((l) => l !== '');
  let longest = 0;
  let logLines = 0;
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      logLines++;
      longest = Math.max(longest, l.length);
    }
  });
  const out: string[] = [];
  try {
    await until(() => published()['notServedCount'] !== undefined, 60_000);
    const reportedMs = performance.now() - began;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const notServedMetric = /^hairpin_dns_not_served_hosts (\S+)$/m.exec(metrics)?.[1];
    const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as {
      hosts?: { state?: string }[];
    };
    const notServedStatus = (status.hosts ?? []).filter((h) => h.state === 'not_served').length;
    // The inputs stopped changing before the start: watch the 90 s from there.
    await sleep(Math.max(0, 90_000 - (performance.now() - began)));
    const puts = corednsPuts();
    const refused = puts.filter((r) => r.status === 422 || r.status === 413).length;
    const events = fake
      .list('v1', 'Event', 'kube-system')
      .filter((e) => e['reason'] === 'HostsNotServed').length;
    const dns = managedCorefileHosts(
      (fake.get('v1', 'ConfigMap', 'kube-system', 'coredns')!['data'] as Record<string, string>)[
        'Corefile'
      ]!,
      { target: RELAY, relayIPs: [RELAY_IP] },
    );
    const memory = proc(child.pid!);
    const servedHosts = lines(published()['hosts']);
    const agree = servedHosts.length === dns.length && servedHosts.every((h, i) => h === dns[i]);
    out.push(
      `${total} hosts: over capacity reported after ${cell(reportedMs)} ms (hairpin-hosts notServedCount ${published()['notServedCount']}, hairpin_dns_not_served_hosts ${notServedMetric}, /status not_served ${notServedStatus}, HostsNotServed Events ${events}); served ${dns.length}; in the first 90 s: ${puts.length} CoreDNS writes, ${refused} refused; hairpin-hosts ${agree ? 'equals' : 'DIFFERS FROM'} what DNS serves; RSS ${cell(memory.rss)} MB (peak ${cell(memory.hwm)} MB); ${logLines} log lines, the longest ${longest} characters`,
    );
    const t0 = performance.now();
    for (let i = back / PER_INGRESS; i < ingresses; i++) {
      fake.delete('networking.k8s.io/v1', 'Ingress', `ns-${i % 200}`, `ing-${i}`);
    }
    await until(
      () =>
        published()['notServedCount'] === undefined && lines(published()['hosts']).length === back,
      60_000,
    );
    out.push(`back to ${back} hosts: all served after ${cell(performance.now() - t0)} ms`);
  } finally {
    await scenario.stop();
  }
  return out;
}

const cell = (x: number, d = 0) => x.toFixed(d);
const rows: Row[] = [];
for (const n of sizes) rows.push(await measure(n));
if (rows.length > 0) {
  console.log(`dns-controller at scale (node ${NODE_FLAGS.join(' ')}, the manifest's flags)`);
  console.log(
    '| hosts | start -> written | one change -> written (median) | RSS after sync | RSS after 5 changes | peak RSS | CPU per change (median) | reconciles | reconcile CPU (mean) | of them <= 100 ms CPU | reconcile wall (mean) | served | not served | CoreDNS writes |',
  );
  console.log(`|${' ---: |'.repeat(14)}`);
  for (const r of rows) {
    console.log(
      `| ${r.hosts} | ${cell(r.startMs)} ms | ${cell(r.changeMs)} ms | ${cell(r.rssSync)} MB | ${cell(r.rssAfter)} MB | ${cell(r.peak)} MB | ${cell(r.cpuMs)} ms | ${r.reconciles} | ${cell(r.reconcileCpuMs)} ms | ${r.within100} | ${cell(r.reconcileMs)} ms | ${r.served} | ${r.notServed} | ${r.corednsWrites} |`,
    );
  }
}
if (SIZES.length === 0) {
  for (const line of await overCapacity()) console.log(line);
  if (!OVER) console.log(await fakeAtScale());
}
process.exit(0);
