// The admin port cannot starve the relay: the built bundle under a 1024-fd limit
// (prlimit), 1100 idle connections to the admin port, relay traffic still flows.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, expect, test } from 'vitest';
import { dial, readAll, startReceiver, waitFor, type Receiver } from './helpers.ts';
import { freePort } from '@hairpin/testing';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const children: ChildProcess[] = [];
const receivers: Receiver[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const r of receivers.splice(0)) await r.close();
});

beforeAll(() => {
  expect(existsSync(main), 'run `pnpm build` first (pnpm test does)').toBe(true);
  expect(existsSync('/usr/bin/prlimit'), 'prlimit (util-linux) is needed').toBe(true);
});

/** One request through the relay: the reply, or '' if none came within `ms`. */
async function roundTrip(port: number, ms: number): Promise<string> {
  const client = await dial(port).catch(() => undefined);
  if (client === undefined) return '';
  client.end('ping');
  const timeout = setTimeout(() => client.destroy(), ms);
  try {
    return (await readAll(client).catch(() => Buffer.alloc(0))).toString();
  } finally {
    clearTimeout(timeout);
  }
}

test('1100 idle admin connections under a 1024-fd limit do not stop relay traffic', async () => {
  const receiver = await startReceiver((s) => s.end('pong'));
  receivers.push(receiver);
  const port = await freePort();
  const adminPort = await freePort();
  // prlimit execs node: the child's pid is the relay's.
  const child = spawn(
    '/usr/bin/prlimit',
    [
      '--nofile=1024',
      process.execPath,
      main,
      '--listen',
      `127.0.0.1:${port}=127.0.0.1:${receiver.port}`,
      '--admin',
      `127.0.0.1:${adminPort}`,
    ],
    { env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let logs = '';
  child.stdout!.on('data', (c: Buffer) => (logs += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (logs += c.toString()));
  const readyz = `http://127.0.0.1:${adminPort}/readyz`;
  await waitFor(async () => (await fetch(readyz).catch(() => undefined))?.status === 200);
  expect(await roundTrip(port, 3_000)).toBe('pong');

  // 1100 connections that never send a byte, all open at once.
  const settled: Promise<unknown>[] = [];
  for (let i = 0; i < 1100; i++) {
    const s = connect({ host: '127.0.0.1', port: adminPort });
    s.on('error', () => {});
    sockets.push(s);
    settled.push(Promise.race([once(s, 'connect'), once(s, 'close')]));
  }
  await Promise.all(settled);

  // Relay traffic still flows while they are held (before the admin idle timeout).
  const replies: string[] = [];
  for (let i = 0; i < 20; i++) replies.push(await roundTrip(port, 2_000));
  expect(replies.filter((r) => r === 'pong').length, logs.slice(-2000)).toBe(20);
  expect(logs).toContain('admin connection limit reached');

  // The idle admin connections are closed by the server within seconds, and probes answer.
  await waitFor(() => sockets.every((s) => s.destroyed || s.readyState === 'closed'), 10_000);
  await waitFor(async () => (await fetch(readyz).catch(() => undefined))?.status === 200);
  expect(child.exitCode).toBeNull();
}, 60_000);
