// A randomized exercise for the relay (single process or workers): many concurrent
// connections, each sending random bytes both ways in random chunk sizes, with stalls and
// half-closes in a random order, every byte checked on both ends, and the PROXY header's
// source port matched to the client that connected.
import { randomBytes, randomInt } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import type { ReceivedHeader } from '../src/proxy-receiver.ts';
import { dial } from './helpers.ts';

interface Spec {
  readonly up: Buffer;
  readonly down: Buffer;
  readonly upstreamDone: (received: Buffer | Error) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function randomSize(): number {
  const r = Math.random();
  if (r < 0.1) return 0; // an immediate half-close
  if (r < 0.2) return randomInt(1, 64);
  if (r < 0.95) return randomInt(64, 192 * 1024);
  return randomInt(512 * 1024, 1024 * 1024);
}

/** Writes `data` in random chunks with random stalls, honouring backpressure, then FIN. */
async function send(socket: Socket, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length;) {
    const len = Math.min(data.length - at, randomInt(1, 64 * 1024));
    const ok = socket.write(data.subarray(at, at + len));
    at += len;
    if (!ok) await once(socket, 'drain');
    if (Math.random() < 0.05) await sleep(randomInt(1, 20));
  }
  socket.end();
}

/** Everything until the peer's FIN, reading with random stalls. */
function receive(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => {
    chunks.push(c);
    if (Math.random() < 0.05) {
      socket.pause();
      setTimeout(() => socket.resume(), randomInt(1, 30));
    }
  });
  return new Promise((resolve, reject) => {
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before its FIN')));
  });
}

export interface RandomExercise {
  /** The receiver's connection handler (startReceiver). */
  onConnection(socket: Socket, header: ReceivedHeader): void;
  /** Runs `connections` concurrent connections through the relay; what failed, if anything. */
  run(relayPort: number, connections: number): Promise<{ checked: number; failures: string[] }>;
}

export function randomExercise(version: 'v1' | 'v2'): RandomExercise {
  const specs = new Map<number, Spec>();
  const waiting = new Map<number, (spec: Spec) => void>();
  const failures: string[] = [];
  return {
    onConnection(socket, header) {
      const play = (spec: Spec): void => {
        if (header.version !== version) failures.push(`header ${header.version}, not ${version}`);
        void send(socket, spec.down).catch(() => {});
        receive(socket).then(spec.upstreamDone, spec.upstreamDone);
      };
      const spec = specs.get(header.sourcePort);
      if (spec !== undefined) play(spec);
      else waiting.set(header.sourcePort, play);
    },
    async run(relayPort, connections) {
      let checked = 0;
      await Promise.all(
        Array.from({ length: connections }, async (_, i) => {
          await sleep(randomInt(0, 200));
          const up = randomBytes(randomSize());
          const down = randomBytes(randomSize());
          let upstreamDone!: (received: Buffer | Error) => void;
          const upstreamGot = new Promise<Buffer | Error>((r) => (upstreamDone = r));
          const client = await dial(relayPort);
          const port = client.localPort!;
          const spec: Spec = { up, down, upstreamDone };
          specs.set(port, spec);
          waiting.get(port)?.(spec);
          waiting.delete(port);
          // Either side may finish sending first: the sizes and stalls decide.
          const [clientGot] = await Promise.all([
            receive(client).catch((err: Error) => err),
            send(client, up).catch(() => {}),
          ]);
          const noHeader = setTimeout(
            () => upstreamDone(new Error('no header with this port')),
            20_000,
          );
          const upstreamReceived = await upstreamGot;
          clearTimeout(noHeader);
          const problems: string[] = [];
          if (!(clientGot instanceof Buffer) || !clientGot.equals(down))
            problems.push(`client got ${describe(clientGot)} of ${down.length} bytes`);
          if (!(upstreamReceived instanceof Buffer) || !upstreamReceived.equals(up))
            problems.push(`upstream got ${describe(upstreamReceived)} of ${up.length} bytes`);
          if (problems.length > 0) failures.push(`connection ${i}: ${problems.join(', ')}`);
          else checked++;
          client.destroy();
        }),
      );
      return { checked, failures };
    },
  };
}

function describe(got: Buffer | Error): string {
  return Buffer.isBuffer(got)
    ? `${got.length} (different)`
    : `an error (${(got as Error).message})`;
}
