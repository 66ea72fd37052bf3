// Reading a CLI's input argument: a file path, or "-" for standard input.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export async function readInput(path: string, stdin: NodeJS.ReadableStream): Promise<string> {
  if (path !== '-') return readFile(path, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface CliIO {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The resolver configuration, for the cluster domain (absent: none, so the default). */
  readonly readResolvConf?: () => string | undefined;
}

/** The process's CliIO: its streams, the environment main.ts passes, and /etc/resolv.conf. */
export function processIO(env: Readonly<Record<string, string | undefined>>): CliIO {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env,
    readResolvConf: () => {
      try {
        return readFileSync('/etc/resolv.conf', 'utf8');
      } catch {
        return undefined;
      }
    },
  };
}
