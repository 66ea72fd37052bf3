// pnpm bench: the relay against HAProxy 2.6 (and nginx directly) in front of the same
// nginx with proxy_protocol, on loopback. nginx and the proxy under test share CPU 0, the
// load generator runs on CPU 1; runs alternate between proxies and the medians are
// printed as relay/HAProxy ratios. Not a test: numbers vary with the machine.
//
//   pnpm bench                     3 rounds of 5 s per measurement (about 4 minutes)
//   pnpm bench --rounds 5 --duration 10
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const ROUNDS = opt('rounds', 3);
const DURATION = opt('duration', 5);
const IDLE = opt('idle-connections', 4000);
const relayMain = fileURLToPath(new URL('../packages/relay/dist/main.js', import.meta.url));

for (const bin of ['/usr/sbin/nginx', '/usr/sbin/haproxy', '/usr/bin/wrk', '/usr/bin/taskset']) {
  if (!existsSync(bin)) {
    console.error(`bench needs ${bin} (apt-get install nginx haproxy wrk util-linux)`);
    process.exit(2);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'hairpin-bench-'));
const children: ChildProcess[] = [];
const stop = (): void => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', stop);
process.on('SIGINT', () => process.exit(130));

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

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
const haproxyPort = await freePort();
const relayPort = await freePort();
const relayAdmin = await freePort();
// nginx's worker may run as another user (nobody when started as root): let it read.
chmodSync(dir, 0o755);
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
writeFileSync(
  join(dir, 'haproxy.cfg'),
  `global
  nbthread 1
  maxconn 9000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend relay
  bind 127.0.0.1:${haproxyPort}
  default_backend nginx
backend nginx
  server nginx 127.0.0.1:${nginxPP} send-proxy
`,
);
start('0', '/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;']);
const haproxy = start('0', '/usr/sbin/haproxy', ['-f', join(dir, 'haproxy.cfg'), '-db']);
const relay = start('0', process.execPath, [
  relayMain,
  '--listen',
  `127.0.0.1:${relayPort}=127.0.0.1:${nginxPP}`,
  '--admin',
  `127.0.0.1:${relayAdmin}`,
  '--max-connections',
  '20000',
  '--log-level',
  'warn',
]);
await Promise.all([nginxPP, nginxDirect, haproxyPort, relayPort].map(waitPort));

// --- measurements ---
const CLK_TCK = 100;
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}
function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

interface WrkResult {
  reqPerSec: number;
  requests: number;
  p99ms: number;
}
function wrk(port: number, close: boolean): WrkResult {
  const out = spawnSync(
    'taskset',
    [
      '-c',
      '1',
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
  const unit = (v: string, u: string) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[u] ?? 1);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  return {
    reqPerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    p99ms: p99 ? unit(p99[1]!, p99[2]!) : NaN,
  };
}

/** 64 MiB through the port, read and discarded by a client on CPU 1; MB/s. */
function bulk(port: number): number {
  const script = `const http=require('http');const t=process.hrtime.bigint();let n=0;
    http.get({host:'127.0.0.1',port:${port},path:'/bulk',agent:false},r=>{r.on('data',c=>n+=c.length);r.on('end',()=>{
    const s=Number(process.hrtime.bigint()-t)/1e9;console.log(JSON.stringify({n,mbps:n/1048576/s}))})})`;
  const out = spawnSync('taskset', ['-c', '1', process.execPath, '-e', script], {
    encoding: 'utf8',
  }).stdout;
  const r = JSON.parse(out) as { n: number; mbps: number };
  if (r.n !== 64 * 1024 * 1024) throw new Error(`bulk transfer incomplete: ${r.n} bytes`);
  return r.mbps;
}

/** RSS growth of `pid` per 10,000 idle proxied connections (KiB). */
async function idleRss(port: number, pid: number): Promise<number> {
  const before = rssKiB(pid);
  const sockets: Socket[] = [];
  for (let i = 0; i < IDLE; i += 200) {
    await Promise.all(
      Array.from(
        { length: Math.min(200, IDLE - i) },
        () =>
          new Promise<void>((resolve, reject) => {
            const s = connect(port, '127.0.0.1', () => resolve());
            s.on('error', reject);
            sockets.push(s);
          }),
      ),
    );
  }
  await new Promise((r) => setTimeout(r, 1500));
  const after = rssKiB(pid);
  for (const s of sockets) s.destroy();
  await new Promise((r) => setTimeout(r, 1500));
  return ((after - before) / IDLE) * 10_000;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

type Name = 'haproxy' | 'relay' | 'direct';
const ports: Record<Name, number> = { haproxy: haproxyPort, relay: relayPort, direct: nginxDirect };
const pids: Partial<Record<Name, number>> = { haproxy: haproxy.pid!, relay: relay.pid! };
const samples: Record<string, number[]> = {};
const add = (k: string, v: number): void => void (samples[k] ??= []).push(v);

// Idle connections first, on fresh processes: later rounds leave freed memory behind that
// new connections would reuse without growing RSS.
for (const name of ['haproxy', 'relay'] as const)
  add(`${name}.idle_kib_per_10k`, await idleRss(ports[name], pids[name]!));
console.log(
  `relay bench: ${ROUNDS} rounds x ${DURATION}s, wrk -t1 -c50 on CPU 1; nginx and the proxy on CPU 0`,
);
for (let round = 1; round <= ROUNDS; round++) {
  const order: Name[] =
    round % 2 === 1 ? ['haproxy', 'relay', 'direct'] : ['relay', 'haproxy', 'direct'];
  for (const name of order) {
    for (const close of [false, true]) {
      const mode = close ? 'newconn' : 'keepalive';
      const pid = pids[name];
      const cpu0 = pid === undefined ? 0 : cpuSeconds(pid);
      const r = wrk(ports[name], close);
      add(`${name}.${mode}.rps`, r.reqPerSec);
      add(`${name}.${mode}.p99`, r.p99ms);
      if (pid !== undefined && r.requests > 0)
        add(`${name}.${mode}.cpu_us`, ((cpuSeconds(pid) - cpu0) / r.requests) * 1e6);
    }
    add(`${name}.bulk`, bulk(ports[name]));
  }
  process.stdout.write(`  round ${round}/${ROUNDS} done\n`);
}

const m = (k: string): number => median(samples[k] ?? [NaN]);
const rows: [string, string, number, number, number, string][] = [
  [
    'new connection per request',
    'req/s',
    m('relay.newconn.rps'),
    m('haproxy.newconn.rps'),
    m('direct.newconn.rps'),
    'higher',
  ],
  [
    'keep-alive',
    'req/s',
    m('relay.keepalive.rps'),
    m('haproxy.keepalive.rps'),
    m('direct.keepalive.rps'),
    'higher',
  ],
  ['bulk 64 MiB', 'MB/s', m('relay.bulk'), m('haproxy.bulk'), m('direct.bulk'), 'higher'],
  [
    'p99 latency, keep-alive',
    'ms',
    m('relay.keepalive.p99'),
    m('haproxy.keepalive.p99'),
    m('direct.keepalive.p99'),
    'lower',
  ],
  [
    'p99 latency, new connection',
    'ms',
    m('relay.newconn.p99'),
    m('haproxy.newconn.p99'),
    m('direct.newconn.p99'),
    'lower',
  ],
  [
    'CPU per request, keep-alive',
    'us',
    m('relay.keepalive.cpu_us'),
    m('haproxy.keepalive.cpu_us'),
    NaN,
    'lower',
  ],
  [
    'CPU per request, new connection',
    'us',
    m('relay.newconn.cpu_us'),
    m('haproxy.newconn.cpu_us'),
    NaN,
    'lower',
  ],
  [
    'RSS growth per 10,000 idle connections',
    'KiB',
    m('relay.idle_kib_per_10k'),
    m('haproxy.idle_kib_per_10k'),
    NaN,
    'lower',
  ],
];
const f = (n: number, d = 1) => (Number.isNaN(n) ? '-' : n.toFixed(d));
console.log('');
console.log(
  `${'measure'.padEnd(40)} ${'unit'.padEnd(6)} ${'relay'.padStart(10)} ${'haproxy'.padStart(10)} ${'direct'.padStart(10)} ${'relay/haproxy'.padStart(14)} ${'relay/direct'.padStart(13)}  better`,
);
for (const [label, unit, r, h, d, better] of rows) {
  console.log(
    `${label.padEnd(40)} ${unit.padEnd(6)} ${f(r).padStart(10)} ${f(h).padStart(10)} ${f(d).padStart(10)} ${`${f(r / h, 2)}x`.padStart(14)} ${`${f(r / d, 2)}x`.padStart(13)}  ${better}`,
  );
}
stop();
process.exit(0);
