// pnpm bench: the relay against HAProxy 2.6 (tcp, send-proxy) and against a minimal
// `pipe` relay (bench/pipe-relay.ts, the floor), all in front of the same nginx with
// proxy_protocol, on loopback. Not a test: numbers vary with the machine.
//
// Two sets, measured in the same run, round after round, in a rotating order, so that a
// slow period of a shared machine hits every variant alike:
// - one core: nginx and the proxy on CPU 0, wrk (one thread, 50 connections) on CPU 1;
//   HAProxy nbthread 1, the relay (one process), the bare relay (bench/bare-relay.ts: the
//   relay's fast path with nothing around it), the pipe relay, and nginx directly.
// - cores (unpinned): HAProxy nbthread 1 and 2 against the relay with 1 and 2 workers.
// Each measure is a ratio to HAProxy taken within one round; the table gives the median
// over rounds and the range [min-max].
//
// Short runs in many rounds: this machine has slow periods of several seconds, and a 4 s run
// that falls in one skews its round; with 2 s runs in 10 rounds the medians hold still.
//
//   pnpm bench                                   10 rounds of 2 s per run (about 8 minutes)
//   BENCH_ROUNDS=15 BENCH_DURATION=4 pnpm bench  more and longer rounds
//   BENCH_IDLE=10000                             idle connections for the RSS measure
//   BENCH_BASELINE=<bundle> pnpm bench           also an older relay bundle, in the same
//                                                rounds (one core), reported against it
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../packages/testing/src/peers.ts';
import { envNumber, median, spread } from './stats.ts';

const ROUNDS = envNumber('BENCH_ROUNDS', 10);
const DURATION = envNumber('BENCH_DURATION', 2);
const IDLE = envNumber('BENCH_IDLE', 4000);
const relayMain = fileURLToPath(new URL('../packages/relay/dist/main.js', import.meta.url));
// An A/B of two builds: an older bundle (e.g. built from an earlier commit in a worktree)
// runs as one more one-core variant, interleaved with the rest.
const baselineMain = process.env['BENCH_BASELINE'];
const pipeRelay = fileURLToPath(new URL('./pipe-relay.ts', import.meta.url));
const bareRelay = fileURLToPath(new URL('./bare-relay.ts', import.meta.url));

for (const bin of ['/usr/sbin/nginx', '/usr/sbin/haproxy', '/usr/bin/wrk', '/usr/bin/taskset']) {
  if (!existsSync(bin)) {
    console.error(`bench needs ${bin} (apt-get install nginx haproxy wrk util-linux)`);
    process.exit(2);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'hairpin-bench-'));
const children: ChildProcess[] = [];
const stop = (): void => {
  // SIGTERM: nginx's master stops its worker then; killed outright, it leaves the worker behind.
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', stop);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** Started through taskset (cpu "0", or "0,1" for unpinned) so the pid is the process's. */
function start(cpu: string, cmd: string, argv: string[]): ChildProcess {
  const child = spawn('taskset', ['-c', cpu, cmd, ...argv], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

// --- the peers ---
const nginxPP = await freePort();
const nginxDirect = await freePort();
chmodSync(dir, 0o755); // nginx's worker may run as another user (nobody when started as root)
mkdirSync(join(dir, 'www'));
writeFileSync(join(dir, 'www', 'bulk'), Buffer.alloc(64 * 1024 * 1024, 7));
writeFileSync(
  join(dir, 'nginx.conf'),
  `worker_processes 1;
worker_rlimit_nofile 20000;
error_log stderr error;
pid ${dir}/nginx.pid;
events { worker_connections 12000; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${nginxPP} proxy_protocol backlog=4096;
    listen 127.0.0.1:${nginxDirect} backlog=4096;
    root ${dir}/www;
    location = / { default_type text/plain; return 200 "ok\\n"; }
  }
}
`,
);
// nginx serves every variant: on CPU 0 for the one-core set, where the proxy shares it.
start('0', '/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;']);

interface Variant {
  readonly name: string;
  readonly port: number;
  /** Processes whose CPU time counts (a relay with workers: the primary and its workers). */
  pids(): number[];
}

async function haproxy(threads: number, cpu: string): Promise<Variant> {
  const port = await freePort();
  const cfg = join(dir, `haproxy-${threads}-${port}.cfg`);
  writeFileSync(
    cfg,
    `global
  nbthread ${threads}
  maxconn 9000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend relay
  bind 127.0.0.1:${port}
  default_backend nginx
backend nginx
  server nginx 127.0.0.1:${nginxPP} send-proxy
`,
  );
  const child = start(cpu, '/usr/sbin/haproxy', ['-f', cfg, '-db']);
  return { name: `haproxy${threads}`, port, pids: () => [child.pid!] };
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

async function relay(workers: number, cpu: string, bundle = relayMain): Promise<Variant> {
  const port = await freePort();
  const child = start(cpu, process.execPath, [
    // As manifests/10-relay.yaml starts it: a small young generation (docs/relay.md).
    '--max-semi-space-size=2',
    bundle,
    '--listen',
    `127.0.0.1:${port}=127.0.0.1:${nginxPP}`,
    '--admin',
    `127.0.0.1:${await freePort()}`,
    '--log-level',
    'warn',
    '--workers',
    String(workers),
  ]);
  return {
    name: bundle !== relayMain ? 'baseline' : workers === 1 ? 'relay' : `relay-w${workers}`,
    port,
    pids: () => [child.pid!, ...childrenOf(child.pid!)],
  };
}

/** A relay from bench/: pipe-relay.ts or bare-relay.ts. */
async function script(name: string, path: string, cpu: string): Promise<Variant> {
  const port = await freePort();
  const child = start(cpu, process.execPath, [path, String(port), String(nginxPP)]);
  return { name, port, pids: () => [child.pid!] };
}

// One core: nginx and the proxy on CPU 0.
const oneCore: Variant[] = [
  await haproxy(1, '0'),
  await relay(1, '0'),
  await script('bare', bareRelay, '0'),
  await script('pipe', pipeRelay, '0'),
  ...(baselineMain !== undefined ? [await relay(1, '0', baselineMain)] : []),
];
const direct: Variant = { name: 'direct', port: nginxDirect, pids: () => [] };
// Cores: unpinned.
const cores: Variant[] = [
  await haproxy(1, '0,1'),
  await haproxy(2, '0,1'),
  await relay(1, '0,1'),
  await relay(2, '0,1'),
];
await Promise.all(
  [nginxPP, nginxDirect, ...oneCore, ...cores].map((v) =>
    waitPort(typeof v === 'number' ? v : v.port),
  ),
);
await new Promise((r) => setTimeout(r, 1000)); // relay workers bind after the primary

// --- measurements ---
const CLK_TCK = 100;
function cpuSeconds(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    total += (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  }
  return total;
}
/**
 * Times the kernel took the CPU from the processes' threads while they could still run:
 * on the core the proxy shares with nginx, each of these is a context switch.
 */
function preemptions(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
      total += Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)![1]);
    }
  }
  return total;
}
function rssKiB(pids: number[]): number {
  let total = 0;
  for (const pid of pids)
    total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  return total;
}

interface WrkResult {
  rps: number;
  requests: number;
  p50: number;
  p99: number;
}
function wrk(port: number, close: boolean, cpu: string): WrkResult {
  const out = spawnSync(
    'taskset',
    [
      '-c',
      cpu,
      'wrk',
      '-t1',
      '-c50',
      `-d${DURATION}s`,
      '--latency',
      ...(close ? ['-H', 'Connection: close'] : []),
      `http://127.0.0.1:${port}/`,
    ],
    { encoding: 'utf8' },
  ).stdout;
  // A variant that relays wrongly gets answers nginx refused, fast: never a result.
  if (/Non-2xx|Socket errors/.test(out)) throw new Error(`wrk saw errors on port ${port}:\n${out}`);
  const ms = (re: RegExp): number => {
    const m = re.exec(out);
    return m ? Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000 }[m[2]!] ?? 1) : NaN;
  };
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    p50: ms(/50%\s+([\d.]+)(us|ms|s)/),
    p99: ms(/99%\s+([\d.]+)(us|ms|s)/),
  };
}

/** 64 MiB through the port, read and discarded by a client on `cpu`; MB/s. */
function bulk(port: number, cpu: string): number {
  const script = `const http=require('http');const t=process.hrtime.bigint();let n=0;
    http.get({host:'127.0.0.1',port:${port},path:'/bulk',agent:false},r=>{r.on('data',c=>n+=c.length);r.on('end',()=>{
    const s=Number(process.hrtime.bigint()-t)/1e9;console.log(JSON.stringify({n,mbps:n/1048576/s}))})})`;
  const out = spawnSync('taskset', ['-c', cpu, process.execPath, '-e', script], {
    encoding: 'utf8',
  }).stdout;
  const r = JSON.parse(out) as { n: number; mbps: number };
  if (r.n !== 64 * 1024 * 1024) throw new Error(`bulk transfer incomplete: ${r.n} bytes`);
  return r.mbps;
}

/** RSS growth of the variant's processes per 10,000 idle proxied connections (KiB). */
async function idleRss(v: Variant): Promise<number> {
  const before = rssKiB(v.pids());
  const sockets: Socket[] = [];
  for (let i = 0; i < IDLE; i += 200) {
    await Promise.all(
      Array.from(
        { length: Math.min(200, IDLE - i) },
        () =>
          new Promise<void>((resolve, reject) => {
            const s = connect(v.port, '127.0.0.1', () => resolve());
            s.on('error', reject);
            sockets.push(s);
          }),
      ),
    );
  }
  await new Promise((r) => setTimeout(r, 1500));
  const after = rssKiB(v.pids());
  for (const s of sockets) s.destroy();
  await new Promise((r) => setTimeout(r, 1500));
  return ((after - before) / IDLE) * 10_000;
}

const samples = new Map<string, number[]>();
const add = (k: string, v: number): void => {
  if (!samples.has(k)) samples.set(k, []);
  samples.get(k)!.push(v);
};
const get = (k: string): number[] => samples.get(k) ?? [];

// Idle connections first, on fresh processes: later rounds leave freed memory behind that
// new connections would reuse without growing RSS.
const baseline: Record<string, number> = {};
for (const v of oneCore) baseline[v.name] = rssKiB(v.pids());
for (const v of oneCore) add(`${v.name}.idle`, await idleRss(v));

console.log(
  `relay bench: ${ROUNDS} rounds x ${DURATION} s per run; one-core set pinned (proxy and nginx on CPU 0, wrk -t1 -c50 on CPU 1), cores set unpinned`,
);
const rotate = <T>(xs: T[], by: number): T[] => xs.map((_, i) => xs[(i + by) % xs.length]!);
function measure(v: Variant, prefix: string, wrkCpu: string): void {
  for (const close of [false, true]) {
    const mode = close ? 'newconn' : 'keepalive';
    const pids = v.pids();
    const cpu0 = cpuSeconds(pids);
    const pre0 = preemptions(pids);
    const r = wrk(v.port, close, wrkCpu);
    const key = `${prefix}${v.name}.${mode}`;
    add(`${key}.rps`, r.rps);
    add(`${key}.p50`, r.p50);
    add(`${key}.p99`, r.p99);
    if (pids.length > 0 && r.requests > 0) {
      add(`${key}.cpu_us`, ((cpuSeconds(pids) - cpu0) / r.requests) * 1e6);
      add(`${key}.preempt`, (preemptions(pids) - pre0) / r.requests);
    }
  }
}
const started = Date.now();
for (let round = 0; round < ROUNDS; round++) {
  for (const v of rotate([...oneCore, direct], round)) {
    measure(v, '', '1');
    add(`${v.name}.bulk`, bulk(v.port, '1'));
  }
  for (const v of rotate(cores, round)) measure(v, 'cores.', '0,1');
  process.stdout.write(
    `  round ${round + 1}/${ROUNDS} done (${Math.round((Date.now() - started) / 1000)} s)\n`,
  );
}

// --- report ---
const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : '-');
/** Per-round ratios a/b: median and range. */
const cell = (a: string, b: string): string => {
  const r = spread(get(a).map((v, i) => v / get(b)[i]!));
  return `${f(r.median)}x [${f(r.min)}-${f(r.max)}]`;
};

const measures: [label: string, key: string, unit: string, better: string, target: string][] = [
  ['new connection per request', 'newconn.rps', 'req/s', 'higher', '>= 0.65'],
  ['keep-alive', 'keepalive.rps', 'req/s', 'higher', '>= 0.85'],
  ['bulk 64 MiB', 'bulk', 'MB/s', 'higher', '>= 0.95'],
  ['CPU per request, new connection', 'newconn.cpu_us', 'us', 'lower', '<= 1.75'],
  ['CPU per request, keep-alive', 'keepalive.cpu_us', 'us', 'lower', '<= 1.35'],
  ['preemptions per request, new conn.', 'newconn.preempt', '', 'lower', ''],
  ['preemptions per request, keep-alive', 'keepalive.preempt', '', 'lower', ''],
  ['p50, new connection', 'newconn.p50', 'ms', 'lower', ''],
  ['p99, new connection', 'newconn.p99', 'ms', 'lower', ''],
  ['p50, keep-alive', 'keepalive.p50', 'ms', 'lower', ''],
  ['p99, keep-alive', 'keepalive.p99', 'ms', 'lower', '<= 1.5'],
  ['RSS per 10,000 idle connections', 'idle', 'KiB', 'lower', '<= 2'],
];
const pad = (s: string, n: number): string => s.padEnd(n);
console.log('\nOne core (ratios to HAProxy nbthread 1 in the same round: median [min-max])');
console.log(
  `${pad('measure', 37)}${pad('unit', 7)}${'haproxy'.padStart(9)}  ${pad('relay', 20)}${pad('bare relay', 20)}${pad('pipe relay', 20)}${pad('relay/pipe', 20)}${pad('nginx direct', 20)}${pad('target', 9)}better`,
);
for (const [label, key, unit, better, target] of measures) {
  const h = `haproxy1.${key}`;
  const digits = unit === 'ms' ? 2 : unit === '' ? 3 : 0;
  console.log(
    `${pad(label, 37)}${pad(unit, 7)}${f(median(get(h)), digits).padStart(9)}  ${pad(cell(`relay.${key}`, h), 20)}${pad(cell(`bare.${key}`, h), 20)}${pad(cell(`pipe.${key}`, h), 20)}${pad(cell(`relay.${key}`, `pipe.${key}`), 20)}${pad(get(`direct.${key}`).length > 0 ? cell(`direct.${key}`, h) : '', 20)}${pad(target, 9)}${better}`,
  );
}
if (baselineMain !== undefined) {
  console.log(
    `\nThe relay against the baseline bundle (${baselineMain}), same rounds: median [min-max]`,
  );
  for (const [label, key, unit] of measures) {
    console.log(
      `${pad(label, 37)}${pad(unit, 7)}relay ${pad(cell(`relay.${key}`, `haproxy1.${key}`), 20)}baseline ${pad(cell(`baseline.${key}`, `haproxy1.${key}`), 20)}relay/baseline ${cell(`relay.${key}`, `baseline.${key}`)}`,
    );
  }
}
console.log(
  `baseline RSS: relay ${f(baseline['relay']! / 1024, 1)} MiB, bare relay ${f(baseline['bare']! / 1024, 1)} MiB, pipe relay ${f(baseline['pipe']! / 1024, 1)} MiB, haproxy ${f(baseline['haproxy1']! / 1024, 1)} MiB`,
);

console.log('\nCores, unpinned (ratios within a round: median [min-max])');
console.log(
  `${pad('measure', 37)}${'haproxy1'.padStart(9)}  ${pad('haproxy2/haproxy1', 20)}${pad('relay/haproxy1', 20)}${pad('relay-w2/haproxy2', 20)}relay-w2/relay`,
);
for (const [label, key] of measures.slice(0, 5)) {
  if (key === 'bulk') continue;
  console.log(
    `${pad(label, 37)}${f(median(get(`cores.haproxy1.${key}`)), 0).padStart(9)}  ${pad(cell(`cores.haproxy2.${key}`, `cores.haproxy1.${key}`), 20)}${pad(cell(`cores.relay.${key}`, `cores.haproxy1.${key}`), 20)}${pad(cell(`cores.relay-w2.${key}`, `cores.haproxy2.${key}`), 20)}${cell(`cores.relay-w2.${key}`, `cores.relay.${key}`)}`,
  );
}
console.log(`\n${Math.round((Date.now() - started) / 1000)} s of measuring`);
// nginx removes its pid file as it exits: the folder goes only once every child is gone.
const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
for (const c of running) c.kill('SIGTERM');
await Promise.race([
  Promise.all(running.map((c) => once(c, 'exit'))),
  new Promise((r) => setTimeout(r, 5000)),
]);
process.exit(0);
