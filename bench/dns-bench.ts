// pnpm bench:dns (also part of pnpm bench): the per-query cost of an edited Corefile in the
// real CoreDNS, against the unedited one. Not a test: numbers vary with the machine.
//
// What is measured: CoreDNS's plugin chain on a cache miss. Every query is a fresh name
// (r<round><variant>-q<N>.miss.example.net, never asked before, so the cache misses), which
// passes every plugin of kubeadm's root block (rewrite, hosts, template, kubernetes: not its
// zone) and is forwarded to an upstream that answers NXDOMAIN at once: a second CoreDNS with a
// catch-all `template ... { rcode NXDOMAIN }`. The upstream's cost is the same for both
// variants, so the ratio edited/baseline is the edit's per-query cost.
// CoreDNS under test is pinned to CPU 0 (one Go thread per core: GOMAXPROCS=1), dnsperf and
// the upstream to CPU 1. Rounds alternate which variant runs first; each round gives a ratio,
// and the table shows the median over rounds and the range [min-max].
//
//   pnpm bench:dns                                   8 rounds of 3 s per variant (about 1 minute)
//   BENCH_DNS_ROUNDS=12 BENCH_DNS_DURATION=5 pnpm bench:dns
//
// Variants: the kubeadm Corefile as shipped (baseline); hairpin's edit of it with 10,000 exact
// hosts and 100 wildcards (applyCorefileHosts: a hosts block and one template per family);
// for comparison, the encoding of earlier versions, 1,000 `rewrite name exact` rules, whose
// cost grows with the host count; and k3s's Corefile without and with hairpin's import-mode
// templates for the same hosts (a coredns-custom *.override key), each ratio against its
// own baseline.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCoreDNS, startCoreDNS, type RunningCoreDNS } from '../packages/testing/src/coredns.ts';
import { prepareCorefile } from '../packages/testing/src/coredns-prepare.ts';
import { corpusFile } from '../packages/testing/src/corpus.ts';
import { applyCorefileHosts, renderCorefileOverride } from '../packages/shared/src/index.ts';
import { envNumber, spread } from './stats.ts';

const ROUNDS = envNumber('BENCH_DNS_ROUNDS', 8);
const DURATION = envNumber('BENCH_DNS_DURATION', 3);
/** Names in each run's data file: more than CoreDNS answers in DURATION seconds. */
const NAMES_PER_RUN = envNumber('BENCH_DNS_NAMES', 400_000);

const EXACT = 10_000;
const WILDCARDS = 100;
const LEGACY_RULES = 1_000;
const RELAY = 'hairpin-relay.hairpin.svc.cluster.local';

/** hairpin's edit: EXACT exact hosts and WILDCARDS wildcards, 23-character names. */
function benchHosts(): string[] {
  return [
    ...Array.from({ length: EXACT }, (_, i) => `h${String(i).padStart(5, '0')}.shop.example.com`),
    ...Array.from({ length: WILDCARDS }, (_, i) => `*.w${String(i).padStart(3, '0')}.example.com`),
  ];
}

function hairpinCorefile(original: string): string {
  return applyCorefileHosts(original, benchHosts(), { target: RELAY, relayIPs: ['10.96.7.7'] });
}

/** Import mode: hairpin's templates for the same hosts (a coredns-custom *.override key). */
function importOverride(): string {
  return renderCorefileOverride(benchHosts(), { target: RELAY, relayIPs: ['10.96.7.7'] });
}

/** Earlier versions' encoding: one `rewrite name exact` rule per host. */
function legacyCorefile(original: string): string {
  const rules = Array.from(
    { length: LEGACY_RULES },
    (_, i) => `    rewrite name exact host${i}.example.com ${RELAY}\n`,
  ).join('');
  return original.replace(/^\.:53 \{\n/m, (open) => `${open}${rules}`);
}

const baselineText = readFileSync(corpusFile('corefiles/kubeadm-latest.Corefile'), 'utf8');
const k3sText = readFileSync(corpusFile('corefiles/k3s.Corefile'), 'utf8');

const coredns = findCoreDNS();
const missing = [
  coredns === undefined ? 'coredns (on PATH or HAIRPIN_COREDNS)' : '',
  spawnSync('dnsperf', ['-h']).error ? 'dnsperf (apt-get install dnsperf)' : '',
  spawnSync('taskset', ['-V']).error ? 'taskset (apt-get install util-linux)' : '',
].filter((m) => m !== '');
if (missing.length > 0) {
  console.error(`bench:dns needs ${missing.join(', ')}`);
  process.exit(2);
}

const pin = (pid: number, cpu: number) => {
  const r = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)]);
  if (r.status !== 0) throw new Error(`taskset: ${r.stderr.toString()}`);
};

const dir = mkdtempSync(join(tmpdir(), 'hairpin-dns-bench-'));
const running: RunningCoreDNS[] = [];
const start = async (
  corefile: string,
  cpu: number,
  files: Record<string, string> = {},
): Promise<RunningCoreDNS> => {
  const c = await startCoreDNS({ corefile, files, env: { GOMAXPROCS: '1' } });
  running.push(c);
  pin(c.pid, cpu);
  return c;
};

function dnsperf(port: number, names: string): number {
  const r = spawnSync(
    'taskset',
    [
      '-c',
      '1',
      'dnsperf',
      '-s',
      '127.0.0.1',
      '-p',
      String(port),
      '-d',
      names,
      '-n',
      '1',
      '-l',
      String(DURATION),
      '-q',
      '200',
    ],
    { encoding: 'utf8', timeout: (DURATION + 20) * 1000 },
  );
  const qps = /Queries per second:\s+([\d.]+)/.exec(r.stdout ?? '')?.[1];
  if (r.status !== 0 || qps === undefined) {
    throw new Error(`dnsperf failed (${r.status}): ${r.stderr ?? ''}${r.stdout ?? ''}`);
  }
  return Number(qps);
}

try {
  const upstream = await start(
    '. {\n    bind 127.0.0.1\n    template ANY ANY {\n        rcode NXDOMAIN\n    }\n}\n',
    1,
  );
  const prepare = (text: string) =>
    prepareCorefile(text, { upstream: `127.0.0.1:${upstream.port}` });
  // k3s's Corefile with its NodeHosts, and with hairpin's import-mode templates loaded
  // through its `import /etc/coredns/custom/*.override` glob.
  const k3sFiles = (override: string | undefined): Record<string, string> => ({
    NodeHosts: '10.0.0.9 node-1\n',
    ...(override === undefined ? {} : { 'custom/hairpin.override': override }),
  });
  const texts = [
    { name: 'baseline', base: 'baseline', text: baselineText, files: {} as Record<string, string> },
    {
      name: `hairpin, ${EXACT} hosts + ${WILDCARDS} wildcards`,
      base: 'baseline',
      text: hairpinCorefile(baselineText),
      files: {},
    },
    {
      name: `earlier rewrite rules, ${LEGACY_RULES} hosts`,
      base: 'baseline',
      text: legacyCorefile(baselineText),
      files: {},
    },
    { name: 'k3s baseline', base: 'k3s baseline', text: k3sText, files: k3sFiles(undefined) },
    {
      name: `k3s import mode, ${EXACT} hosts + ${WILDCARDS} wildcards`,
      base: 'k3s baseline',
      text: k3sText,
      files: k3sFiles(importOverride()),
    },
  ];
  const variants = [];
  for (const t of texts) {
    variants.push({ ...t, server: await start(prepare(t.text), 0, t.files) });
  }
  console.log(
    `dns-bench: cache misses per second in CoreDNS (one core); ${ROUNDS} rounds of ${DURATION} s, order rotating`,
  );
  const qps = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const ratios = new Map<string, number[]>(
    variants.filter((v) => v.base !== v.name).map((v) => [v.name, []]),
  );
  for (let round = 0; round < ROUNDS; round++) {
    const shift = round % variants.length;
    const order = [...variants.slice(shift), ...variants.slice(0, shift)];
    const result = new Map<string, number>();
    for (const [i, v] of order.entries()) {
      const names = join(dir, `${round}-${i}.txt`);
      const tag = `r${round}v${i}`;
      writeFileSync(
        names,
        Array.from({ length: NAMES_PER_RUN }, (_, n) => `${tag}-q${n}.miss.example.net A\n`).join(
          '',
        ),
      );
      result.set(v.name, dnsperf(v.server.port, names));
      rmSync(names);
    }
    for (const v of variants) qps.get(v.name)!.push(result.get(v.name)!);
    for (const v of variants) {
      ratios.get(v.name)?.push(result.get(v.name)! / result.get(v.base)!);
    }
    console.log(
      `round ${round + 1}: ${variants.map((v) => `${result.get(v.name)!.toFixed(0)}`).join(' / ')} qps`,
    );
  }
  const fmt = (x: { median: number; min: number; max: number }, digits: number) =>
    `${x.median.toFixed(digits)} [${x.min.toFixed(digits)}-${x.max.toFixed(digits)}]`;
  console.log('');
  console.log('| Corefile | bytes | cache misses/s | ratio to its baseline |');
  console.log('|---|---|---|---|');
  for (const v of variants) {
    const r = ratios.get(v.name);
    const bytes = [v.text, ...Object.values(v.files)].reduce((n, t) => n + Buffer.byteLength(t), 0);
    console.log(
      `| ${v.name} | ${bytes} | ${fmt(spread(qps.get(v.name)!), 0)} | ${r === undefined ? '1' : `${fmt(spread(r), 3)}x`} |`,
    );
  }
} finally {
  for (const c of running) await c.stop();
  rmSync(dir, { recursive: true, force: true });
}
