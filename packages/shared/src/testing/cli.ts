// Test support for the components' CLIs: in-process streams, and running a built bundle.
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import type { CliIO } from '../runtime/input.ts';

export interface CapturedIO extends CliIO {
  readonly out: () => string;
  readonly err: () => string;
}

export function captureIO(stdin = '', env: Record<string, string> = {}): CapturedIO {
  const input = new PassThrough();
  input.end(stdin);
  let out = '';
  let err = '';
  const stdout = new PassThrough().on('data', (c: Buffer) => (out += c.toString()));
  const stderr = new PassThrough().on('data', (c: Buffer) => (err += c.toString()));
  return { stdin: input, stdout, stderr, env, out: () => out, err: () => err };
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node <script> ...args` with Node running these tests, stdin given, bounded in time. */
export function runNode(
  script: string,
  args: readonly string[],
  options: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 20_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** An address no interface of a test machine has (TEST-NET-1, RFC 5737): EADDRNOTAVAIL. */
export const UNAVAILABLE_ADDRESS = '192.0.2.1';

/** A port on 127.0.0.1 held by a listener until close(): binding it fails (EADDRINUSE). */
export async function occupiedPort(): Promise<{ readonly port: number; close(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface StartupCase {
  readonly what: string;
  readonly args: readonly string[];
  /** DESIGN.md: invalid configuration 2, an address that cannot be bound 1. */
  readonly code: 1 | 2;
  /** The whole of stderr: one line, no stack trace. */
  readonly stderr: string;
}

/** The --admin failures every component reports alike; `takenPort` is in use on 127.0.0.1. */
export function adminStartupCases(takenPort: number): readonly StartupCase[] {
  return [
    {
      what: 'an admin address in use',
      args: ['--admin', `127.0.0.1:${takenPort}`],
      code: 1,
      stderr: `fatal: cannot listen on admin address 127.0.0.1:${takenPort}: address already in use (EADDRINUSE)\n`,
    },
    {
      what: 'an admin address not on this host',
      args: ['--admin', `${UNAVAILABLE_ADDRESS}:9090`],
      code: 1,
      stderr: `fatal: cannot listen on admin address ${UNAVAILABLE_ADDRESS}:9090: address not available on this host (EADDRNOTAVAIL)\n`,
    },
    {
      what: 'an admin host that is not an IP address',
      args: ['--admin', '999.1.1.1:9090'],
      code: 2,
      stderr:
        'error: --admin "999.1.1.1:9090": host must be an IP address (0.0.0.0 for every interface)\n',
    },
  ];
}
