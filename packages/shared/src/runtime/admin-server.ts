// The admin endpoint every component serves (DESIGN.md: --admin HOST:PORT):
// /metrics (prom-client), /healthz (the process is alive), /readyz (it can do its job).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';

export interface AdminServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  /** Collects the metrics text; default registry.metrics() (a cluster primary aggregates). */
  readonly collect?: () => Promise<string>;
  /** Returns null when ready, otherwise the reason it is not (sent in the 503 body). */
  readonly notReadyReason: () => string | null;
  /** Extra GET routes, by path (e.g. `/status`): each answers with the JSON of its value. */
  readonly jsonRoutes?: Readonly<Record<string, () => unknown>>;
  readonly log: Logger;
}

export interface AdminServer {
  readonly server: Server;
  readonly address: AddressInfo;
  close(): Promise<void>;
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { registry, notReadyReason, log } = options;
  const collect = options.collect ?? (() => registry.metrics());
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    switch (path) {
      case '/metrics':
        collect().then(
          (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
          (err: unknown) => {
            log.error({ err }, 'collecting metrics failed');
            res.writeHead(500).end();
          },
        );
        return;
      case '/healthz':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      case '/readyz': {
        const reason = notReadyReason();
        res
          .writeHead(reason === null ? 200 : 503, { 'content-type': 'text/plain' })
          .end(reason === null ? 'ok\n' : `not ready: ${reason}\n`);
        return;
      }
      default: {
        const routes = options.jsonRoutes;
        if (path !== undefined && routes !== undefined && Object.hasOwn(routes, path)) {
          Promise.resolve()
            .then(routes[path])
            .then(
              (value) =>
                res
                  .writeHead(200, { 'content-type': 'application/json' })
                  .end(`${JSON.stringify(value, null, 2)}\n`),
              (err: unknown) => {
                log.error({ err, path }, 'admin route failed');
                res.writeHead(500).end();
              },
            );
          return;
        }
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    }
  });
  // Probes and scrapes are short; do not let a stuck client hold the server open.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  log.info({ address: `${address.address}:${address.port}` }, 'admin server listening');
  return {
    server,
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
