// Reading a CLI's input argument: a file path, or "-" for standard input.
//
// The bytes become text through file-bytes.ts, so that a command that prints the input
// back (render) gives every byte it did not edit back unchanged, UTF-8 or not; the output
// goes through bytesFromText. Input is capped: a huge or endless input (a FIFO, /dev/zero)
// is refused with one line rather than exhaust memory.
import { createReadStream, readFileSync } from 'node:fs';
import { ErrorCodes, HairpinError } from '../errors.ts';
import { textFromBytes } from '../file-bytes.ts';

const MIB = 1024 * 1024;

/** 64 MiB: far above a Corefile (a ConfigMap holds 1 MiB) or a cluster's Ingress list. */
export const MAX_INPUT_BYTES = 64 * MIB;

export async function readInput(
  path: string,
  stdin: NodeJS.ReadableStream,
  maxBytes = MAX_INPUT_BYTES,
): Promise<string> {
  const source = path === '-' ? stdin : createReadStream(path);
  const name = path === '-' ? 'standard input' : path;
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop by a throw destroys the stream (for await ... of calls return()).
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    if (size > maxBytes) {
      const limit = maxBytes % MIB === 0 ? `${maxBytes / MIB} MiB` : `${maxBytes} bytes`;
      throw new HairpinError(ErrorCodes.INPUT, `${name}: input is larger than ${limit}`);
    }
    chunks.push(bytes);
  }
  return textFromBytes(Buffer.concat(chunks));
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
