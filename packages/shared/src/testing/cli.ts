// Test support for the components' CLIs: in-process streams, and running a built bundle.
import { spawn } from 'node:child_process';
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
  /** stdout as the bytes written (for byte-exact output). */
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
}

/** Runs `node <script> ...args` with Node running these tests, stdin given, bounded in time. */
export function runNode(
  script: string,
  args: readonly string[],
  options: { stdin?: string | Uint8Array; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 20_000,
    });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(stdout);
      resolve({ code, stdout: stdoutBytes.toString(), stdoutBytes, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}
