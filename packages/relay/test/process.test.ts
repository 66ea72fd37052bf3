// The built entrypoint as operators run it: config errors, admin endpoints, SIGTERM drain.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { runNode } from '@hairpin/testing';
import { describe, expect, test } from 'vitest';
import { builtRelay, dial, readAll, startReceiver, waitFor } from './helpers.ts';
import type { Socket } from 'node:net';
import { freePort } from '@hairpin/testing';

const { main, children, receivers } = builtRelay();

async function startProcess(
  args: string[],
  env: Record<string, string> = {},
  prefix: readonly string[] = [],
) {
  const admin = await freePort();
  const argv = [...prefix, process.execPath, main, ...args, '--admin', `127.0.0.1:${admin}`];
  const child = spawn(argv[0]!, argv.slice(1), {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let logs = '';
  child.stdout!.on('data', (c: Buffer) => (logs += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (logs += c.toString()));
  const base = `http://127.0.0.1:${admin}`;
  await waitFor(
    async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok === true,
    10_000,
  );
  return { child, base, logs: () => logs };
}

test('the relay bundle does not carry @kubernetes/client-node', () => {
  expect(readFileSync(main, 'utf8')).not.toContain('@kubernetes/client-node');
});

describe('configuration', () => {
  test('bad configuration: exit 2 with every problem listed', async () => {
    const r = await runNode(
      main,
      ['--listen', 'nonsense', '--proxy-protocol', 'v3', '--idle-timeout', 'soon'],
      {
        env: { ADMIN_ADDR: 'localhost' },
      },
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('--listen nonsense: expected HOST:PORT=TARGET_HOST:TARGET_PORT');
    expect(r.stderr).toContain('--proxy-protocol must be v1 or v2');
    expect(r.stderr).toContain('--idle-timeout "soon"');
    expect(r.stderr).toContain('--admin "localhost" is not HOST:PORT');
  });

  test('no routes at all is a configuration error', async () => {
    const r = await runNode(main, []);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no routes');
  });
});

/** A relay (with extra flags `args`) holding one connection that the ingress never answers. */
async function relayHoldingOne(drainTimeout: string, args: string[] = []) {
  const receiver = await startReceiver(() => {});
  receivers.push(receiver);
  const port = await freePort();
  const p = await startProcess(args, {
    RELAY_ROUTES: `127.0.0.1:${port}=127.0.0.1:${receiver.port}`,
    DRAIN_TIMEOUT: drainTimeout,
  });
  await waitFor(async () => (await fetch(`${p.base}/readyz`)).status === 200, 15_000);
  const client = await dial(port);
  client.on('error', () => {});
  await waitFor(() => receiver.headers.length === 1);
  return { ...p, client };
}

describe('running', () => {
  test('admin endpoints, metrics names, JSON logs; SIGTERM drains then exits 0', async () => {
    let release: (() => void) | undefined;
    const receiver = await startReceiver((s) => {
      // Hold the reply until the test says so, to have a connection open during drain.
      release = () => s.end('done');
      s.resume();
    });
    receivers.push(receiver);
    const port = await freePort();
    const p = await startProcess([
      '--listen',
      `127.0.0.1:${port}=127.0.0.1:${receiver.port}`,
      '--drain-timeout',
      '10s',
    ]);
    await waitFor(async () => (await fetch(`${p.base}/readyz`)).status === 200);

    const metrics = await (await fetch(`${p.base}/metrics`)).text();
    for (const name of [
      'hairpin_relay_connections_total',
      'hairpin_relay_active_connections',
      'hairpin_relay_bytes_total',
      'hairpin_relay_upstream_connect_seconds',
      'hairpin_relay_connection_duration_seconds',
      'process_cpu_seconds_total',
    ]) {
      expect(metrics).toContain(`# TYPE ${name}`);
    }
    const firstLog = JSON.parse(p.logs().split('\n')[0]!) as Record<string, unknown>;
    expect(firstLog).toMatchObject({ level: 'info', name: 'hairpin-relay' });

    const client = await dial(port);
    const reply = readAll(client);
    await waitFor(() => release !== undefined);
    p.child.kill('SIGTERM');
    // Not ready at once, no new connections, the open one still completes.
    await waitFor(
      async () => (await fetch(`${p.base}/readyz`).catch(() => undefined))?.status !== 200,
    );
    await waitFor(
      async () =>
        await dial(port).then(
          (s) => (s.destroy(), false),
          () => true,
        ),
    );
    release!();
    expect((await reply).toString()).toBe('done');
    client.end();
    const [code] = (await once(p.child, 'exit')) as [number];
    expect(code).toBe(0);
    expect(p.logs()).toContain('"msg":"stopped"');
    // It finished on its own: the drain deadline was not needed.
    expect(p.logs()).not.toContain('drain deadline reached');
  });

  test('the drain deadline resets what is left and still exits 0', async () => {
    const p = await relayHoldingOne('300ms');
    const client = p.client;
    const started = Date.now();
    p.child.kill('SIGTERM');
    // Cut at the deadline: a reset, so the client cannot take it for a complete transfer.
    await expect(readAll(client)).rejects.toMatchObject({ code: 'ECONNRESET' });
    const [code] = (await once(p.child, 'exit')) as [number];
    expect(code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(p.logs()).toContain('drain deadline reached');
  });

  test('a second SIGTERM during the drain ends the process at once', async () => {
    const p = await relayHoldingOne('60s');
    p.child.kill('SIGTERM');
    await waitFor(() => p.logs().includes('draining connections'));
    const started = Date.now();
    p.child.kill('SIGTERM');
    const [code] = (await once(p.child, 'exit')) as [number];
    expect(code).toBe(143);
    // Well before the 60 s drain deadline.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('--workers 2 and Ctrl-C (SIGINT to the whole group): the workers drain, exit 0', async () => {
    const p = await relayHoldingOne('500ms', ['--workers', '2']);
    const pid = p.child.pid!;
    const workers = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    expect(workers).toHaveLength(2);
    // A terminal's Ctrl-C reaches every process of the group. The primary then passes
    // SIGTERM on to workers that already have the SIGINT: a second signal to them, which
    // must not cut their drain short.
    for (const w of workers) process.kill(w, 'SIGINT');
    process.kill(pid, 'SIGINT');
    const [code] = (await once(p.child, 'exit')) as [number];
    expect(code).toBe(0);
    expect(p.logs()).toContain('drain deadline reached');
  });

  test('a target that does not resolve: running, not ready, no crash', async () => {
    const p = await startProcess([
      '--listen',
      `127.0.0.1:${await freePort()}=hairpin-does-not-exist.invalid:80`,
    ]);
    const ready = await fetch(`${p.base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain('does not resolve');
    await new Promise((r) => setTimeout(r, 500));
    expect(p.child.exitCode).toBeNull();
  });

  test('--workers 2: both workers relay, the primary aggregates metrics and drains them on SIGTERM', async () => {
    const receiver = await startReceiver((s) => s.end('ok'));
    receivers.push(receiver);
    const port = await freePort();
    const p = await startProcess([
      '--listen',
      `127.0.0.1:${port}=127.0.0.1:${receiver.port}`,
      '--workers',
      '2',
    ]);
    await waitFor(async () => (await fetch(`${p.base}/readyz`)).status === 200, 15_000);
    const n = 40;
    for (let i = 0; i < n; i++) {
      const c = await dial(port);
      c.end();
      expect((await readAll(c)).toString()).toBe('ok');
    }
    await waitFor(async () =>
      (await (await fetch(`${p.base}/metrics`)).text()).includes(
        `hairpin_relay_connections_total{route="127.0.0.1:${port}",result="ok"} ${n}`,
      ),
    );
    const pids = new Set(
      p
        .logs()
        .split('\n')
        .flatMap((l) =>
          l.includes('relay listening') ? [(JSON.parse(l) as { worker: number }).worker] : [],
        ),
    );
    expect(pids.size).toBe(2);
    p.child.kill('SIGTERM');
    const [code] = (await once(p.child, 'exit')) as [number];
    expect(code).toBe(0);
  }, 30_000);

  test('--workers 2 with the port taken: the whole relay exits 1 with one line', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const port = (taken.address() as { port: number }).port;
    try {
      const admin = await freePort();
      const r = await runNode(
        main,
        [
          '--listen',
          `127.0.0.1:${port}=127.0.0.1:80`,
          '--workers',
          '2',
          '--admin',
          `127.0.0.1:${admin}`,
        ],
        { timeoutMs: 15_000 },
      );
      expect(r.code).toBe(1);
      const fatal = r.stderr.split('\n').filter((l) => l.startsWith('fatal:'));
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toContain('EADDRINUSE');
    } finally {
      taken.close();
    }
  }, 30_000);

  test('max-connections is derived from the open-file limit, so accepted clients still get an upstream', async () => {
    const held: Socket[] = [];
    const receiver = await startReceiver((s) => held.push(s));
    receivers.push(receiver);
    const port = await freePort();
    const p = await startProcess(['--listen', `127.0.0.1:${port}=127.0.0.1:${receiver.port}`], {}, [
      'prlimit',
      '--nofile=160:160',
    ]);
    expect(p.logs()).toMatch(
      /max-connections \d+, not 10000: the open-file limit \(160\) leaves room for no more/,
    );
    const limit = Number(/"maxConnections":(\d+)/.exec(p.logs())![1]);
    expect(limit).toBeGreaterThan(5);
    expect(limit).toBeLessThan(80);
    // More clients than the limit: the extra ones are refused and counted, and every
    // accepted one is relayed (its header reached the receiver); none fails for want of a
    // file descriptor.
    const clients: Socket[] = [];
    for (let i = 0; i < 100; i++) {
      const c = await dial(port);
      c.on('error', () => {});
      clients.push(c);
    }
    await waitFor(() => receiver.headers.length === limit);
    const metrics = async (): Promise<string> => (await fetch(`${p.base}/metrics`)).text();
    await waitFor(async () =>
      (await metrics()).includes(
        `hairpin_relay_connections_total{route="127.0.0.1:${port}",result="rejected_limit"} ${100 - limit}`,
      ),
    );
    expect(await metrics()).not.toMatch(/result="upstream_error"/);
    for (const c of clients) c.destroy();
    for (const s of held) s.destroy();
    // Freed, and serving again.
    await waitFor(async () =>
      (await metrics()).includes(`hairpin_relay_active_connections{route="127.0.0.1:${port}"} 0`),
    );
    const again = await dial(port);
    await waitFor(() => receiver.headers.length === limit + 1);
    again.destroy();
  }, 30_000);
});
