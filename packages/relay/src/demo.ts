// `hairpin-relay demo`: the relay in front of a small HTTP backend that only speaks the
// PROXY protocol, on loopback, so a new user can watch it work without a cluster. The
// backend answers with the client address it read from the header.
import { createServer as createHttpServer, get } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { ConfigError, flagValue, parseFlags, StartupError, type FlagSpec } from '@hairpin/shared';
import { createLogger, listenFailure, untilSignal } from '@hairpin/shared/runtime';
import { loadConfig } from './config.ts';
import { readProxyHeader, type ReceivedHeader } from './proxy-receiver.ts';
import { runRelay } from './run.ts';

export const DEMO_FLAGS: readonly FlagSpec[] = [
  { name: 'port', env: null, arg: 'PORT', default: '8080', help: "the relay's port on 127.0.0.1" },
  {
    name: 'backend-port',
    env: null,
    arg: 'PORT',
    default: '8081',
    help: "the demo backend's port on 127.0.0.1 (0: any free port)",
  },
  {
    name: 'admin-port',
    env: null,
    arg: 'PORT',
    default: '9090',
    help: 'the admin port on 127.0.0.1: /metrics, /healthz, /readyz',
  },
  { name: 'proxy-protocol', env: null, arg: 'v1|v2', default: 'v1', help: 'PROXY header version' },
];

export async function startDemoBackend(
  port: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const seen = new WeakMap<Socket, ReceivedHeader>();
  const http = createHttpServer((req, res) => {
    const h = seen.get(req.socket);
    res.setHeader('content-type', 'text/plain');
    res.end(
      h === undefined
        ? 'no PROXY header\n'
        : `Hello from the demo backend.\n` +
            `The PROXY ${h.version} header says: client ${h.sourceAddress}:${h.sourcePort}, ` +
            `reached ${h.destinationAddress}:${h.destinationPort}.\n` +
            `The TCP connection itself came from ${req.socket.remoteAddress}:${req.socket.remotePort} (the relay).\n`,
    );
  });
  const server = createServer((socket) => {
    readProxyHeader(socket).then(
      (header) => {
        seen.set(socket, header);
        http.emit('connection', socket);
        socket.resume();
      },
      (err: Error) => {
        // Like ingress-nginx with use-proxy-protocol: no header, no service.
        socket.end(
          `HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: ${err.message.length + 1}\r\n\r\n${err.message}\n`,
        );
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    port: bound,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

export async function runDemo(
  argv: readonly string[],
  out: NodeJS.WritableStream,
): Promise<number> {
  const flags = parseFlags(argv, {}, DEMO_FLAGS);
  if (flags.problems.length > 0) throw new ConfigError(flags.problems);
  const port = flagValue(flags, 'port') ?? '8080';
  const backendPort = Number(flagValue(flags, 'backend-port') ?? '8081');
  const adminPort = flagValue(flags, 'admin-port') ?? '9090';
  const version = flagValue(flags, 'proxy-protocol') ?? 'v1';

  const backend = await startDemoBackend(backendPort).catch((err: unknown) => {
    const failure = listenFailure(err, 'demo backend address', `127.0.0.1:${backendPort}`);
    throw new StartupError(`${failure.message} (choose another with --backend-port)`);
  });
  const config = loadConfig(
    [
      '--listen',
      `127.0.0.1:${port}=127.0.0.1:${backend.port}`,
      '--admin',
      `127.0.0.1:${adminPort}`,
      '--proxy-protocol',
      version,
      '--drain-timeout',
      '1s',
    ],
    {},
  );
  const log = createLogger({ level: 'warn', name: 'hairpin-relay' });
  const running = await runRelay(config, { log }).catch(async (err: unknown) => {
    await backend.close();
    if (!(err instanceof StartupError)) throw err;
    throw new StartupError(`${err.message} (choose others with --port / --admin-port)`);
  });
  const relayPort = [...running.relay.addresses().values()][0]!.port;
  out.write(
    `hairpin-relay demo\n` +
      `  backend  127.0.0.1:${backend.port}  HTTP that only accepts PROXY-protocol connections\n` +
      `  relay    127.0.0.1:${relayPort}  -> backend, PROXY ${version} header first\n` +
      `  admin    http://127.0.0.1:${adminPort}/metrics  /healthz  /readyz\n\n` +
      `A request through the relay:\n  $ curl http://127.0.0.1:${relayPort}/\n`,
  );
  const body = await fetchText(`http://127.0.0.1:${relayPort}/`);
  out.write(body.replace(/^/gm, '  ') + '\n');
  out.write(
    `The same request straight to the backend, without the header, is refused:\n  $ curl http://127.0.0.1:${backend.port}/\n`,
  );
  const direct = await fetchText(`http://127.0.0.1:${backend.port}/`).catch(
    (e: Error) => e.message,
  );
  out.write(`${direct.trim().replace(/^/gm, '  ')}\n\n`);
  out.write(`Try it yourself: curl http://127.0.0.1:${relayPort}/  (Ctrl-C stops the demo)\n`);

  await untilSignal();
  await running.stop();
  await backend.close();
  out.write('demo stopped\n');
  return 0;
}
