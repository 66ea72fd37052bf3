// Smoke test of the built image: node scripts/image-smoke.ts IMAGE (CI runs it from
// .ci/image; locally after `pnpm image`: node scripts/image-smoke.ts hairpin:dev).
// Every container runs as the image's non-root user with a read-only root filesystem,
// no capabilities, on the host network (loopback only):
//   - the relay in front of a PROXY-aware receiver, which checks the exact v1 header;
//   - `render` of the dns-controller and of the hosts agent on fixture files, byte for byte
//     what the bundles built on this machine print;
//   - `cleanup` without a cluster fails cleanly: exit 1, one line, no stack trace;
//   - each bundle's --version names the commit the image was built from (HAIRPIN_COMMIT).
// Needs the bundles built (`pnpm build`), for the expected render output.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';

const image = process.argv[2] ?? '';
if (!image) {
  process.stderr.write('usage: node scripts/image-smoke.ts IMAGE\n');
  process.exit(2);
}
const engine = process.env['CONTAINER_ENGINE'] ?? 'podman';
const fixtures = fileURLToPath(new URL('../test/fixtures/image/', import.meta.url));
const bundle = (name: string) =>
  fileURLToPath(new URL(`../packages/${name}/dist/main.js`, import.meta.url));

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(
  cmd: string,
  args: readonly string[],
  stdin = '',
  timeoutMs = 60_000,
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // A command that does not read its input (--version) may exit first: EPIPE is not an error.
    child.stdin.on('error', () => undefined);
    if (stdin === '') child.stdin.end();
    else child.stdin.end(stdin);
  });
}

/** The locked-down `run` every check uses, as the manifests run the pods. */
function locked(extra: readonly string[], command: readonly string[]): string[] {
  return [
    'run',
    '--network=host',
    '--read-only',
    ...(engine === 'podman' ? ['--read-only-tmpfs=false'] : []),
    '--cap-drop=ALL',
    '--security-opt=no-new-privileges',
    ...extra,
    image,
    ...command,
  ];
}

let passed = 0;
let failures = 0;
function check(name: string, ok: boolean, detail = ''): void {
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok || !detail ? '' : `\n${detail}`}\n`);
  if (ok) passed++;
  else failures++;
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  server.close();
  return port;
}

async function waitReady(url: string, deadlineMs: number): Promise<boolean> {
  for (const end = Date.now() + deadlineMs; Date.now() < end;) {
    try {
      if ((await fetch(url)).status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function relay(): Promise<void> {
  // The receiver: reads the header line, replies with it, echoes what follows.
  const received: string[] = [];
  const receiver = createServer((socket) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      received.push(buf.subarray(0, end + 2).toString('latin1'));
      socket.write(`got ${buf.subarray(end + 2).toString()}`);
      socket.pipe(socket);
    };
    socket.on('data', onData);
  });
  const upstream = await listen(receiver);
  const [port, admin] = [await freePort(), await freePort()];
  const name = `hairpin-smoke-relay-${process.pid}`;
  const started = await run(
    engine,
    locked(
      ['--detach', `--name=${name}`],
      [
        '/app/relay/main.js',
        '--listen',
        `127.0.0.1:${port}=127.0.0.1:${upstream}`,
        '--admin',
        `127.0.0.1:${admin}`,
      ],
    ),
  );
  check('relay container starts', started.code === 0, started.stderr);
  try {
    const ready = await waitReady(`http://127.0.0.1:${admin}/readyz`, 30_000);
    check('relay /readyz answers 200', ready);
    if (!ready) return;
    const client = connect(port, '127.0.0.1');
    await once(client, 'connect');
    const clientPort = client.localPort;
    let reply = '';
    client.on('data', (c: Buffer) => (reply += c.toString()));
    client.end('ping');
    await once(client, 'close');
    const expected = `PROXY TCP4 127.0.0.1 127.0.0.1 ${clientPort} ${port}\r\n`;
    check(
      `relay sends the PROXY v1 header first: ${JSON.stringify(expected)}`,
      received[0] === expected,
      `received ${JSON.stringify(received)}`,
    );
    check(
      'relay carries the bytes both ways',
      reply === 'got ping',
      `reply ${JSON.stringify(reply)}`,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
    check(
      'relay counts the connection',
      /hairpin_relay_connections_total\{[^}]*result="ok"[^}]*\} 1/.test(metrics),
      metrics
        .split('\n')
        .filter((l) => l.startsWith('hairpin_relay_connections'))
        .join('\n'),
    );
  } finally {
    await run(engine, ['stop', '--time=10', name]);
    const exit = await run(engine, ['wait', name]);
    const logs = await run(engine, ['logs', name]);
    check(
      'relay stops on SIGTERM with exit 0',
      exit.stdout.trim() === '0',
      logs.stdout + logs.stderr,
    );
    await run(engine, ['rm', '--force', name]);
    receiver.close();
  }
}

async function render(
  what: string,
  component: string,
  args: readonly string[],
  stdin: string,
  mustContain: string,
): Promise<void> {
  const inImage = await run(
    engine,
    locked(
      ['--rm', '--interactive', `--volume=${fixtures}:/fixtures:ro`],
      [`/app/${component}/main.js`, 'render', ...args],
    ),
    stdin,
  );
  const onHost = await run(
    process.execPath,
    [bundle(component), 'render', ...args.map((a) => a.replace('/fixtures/', fixtures))],
    stdin,
  );
  check(
    `${what}: exit 0, nothing on stderr`,
    inImage.code === 0 && inImage.stderr === '',
    inImage.stderr,
  );
  check(`${what}: the managed line`, inImage.stdout.includes(mustContain), inImage.stdout);
  check(
    `${what}: byte-identical to the bundle built here`,
    onHost.code === 0 && inImage.stdout === onHost.stdout,
    `image:\n${inImage.stdout}\nhere:\n${onHost.stdout}${onHost.stderr}`,
  );
}

async function cleanupWithoutCluster(): Promise<void> {
  const r = await run(engine, locked(['--rm'], ['/app/dns-controller/main.js', 'cleanup']));
  const lines = r.stderr.trimEnd().split('\n');
  check(
    `cleanup without a cluster: exit 1, one line (${JSON.stringify(lines[0])})`,
    r.code === 1 &&
      r.stdout === '' &&
      lines.length === 1 &&
      lines[0]?.startsWith('fatal: no Kubernetes cluster configured') === true,
    `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
  );
}

/** --version in the image: the commit passed in as HAIRPIN_COMMIT, not `unknown`, when built from git. */
async function versions(): Promise<void> {
  const commit = await run('git', ['rev-parse', 'HEAD']).catch(() => undefined);
  for (const component of ['relay', 'dns-controller', 'hosts-agent']) {
    const r = await run(engine, locked(['--rm'], [`/app/${component}/main.js`, '--version']));
    const m = /^hairpin-\S+ \S+ \(commit ([0-9a-f]+|unknown), node \S+\)\n$/.exec(r.stdout);
    const want = commit?.code === 0 ? commit.stdout.trim() : undefined;
    check(
      `${component} --version: ${r.stdout.trim()}`,
      r.code === 0 && m !== null && (want === undefined || m[1] === want),
      `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\nwant commit ${want}`,
    );
  }
}

const user = await run(engine, ['image', 'inspect', '--format', '{{.Config.User}}', image]);
check(
  `runs as a non-root user (${user.stdout.trim()})`,
  /^[1-9]\d*(:\d+)?$/.test(user.stdout.trim()),
  user.stderr,
);
await relay();
await render(
  'dns-controller render',
  'dns-controller',
  ['--corefile', '-', '--host', 'shop.example.com', '--relay-ip', '10.96.0.50'],
  readFileSync(`${fixtures}kubeadm.Corefile`, 'utf8'),
  '10.96.0.50 shop.example.com # managed by hairpin',
);
await render(
  'hosts-agent render',
  'hosts-agent',
  ['--hosts-file', '/fixtures/node.hosts', '--ip', '10.96.0.50', '--host', 'shop.example.com'],
  '',
  '10.96.0.50 shop.example.com # managed by hairpin',
);
await cleanupWithoutCluster();
await versions();

process.stdout.write(`smoke: ${passed} passed, ${failures} failed\n`);
process.exit(failures === 0 ? 0 : 1);
