// The admin endpoint every component serves (--admin HOST:PORT, docs/install.md):
// /metrics (prom-client), /healthz (the process is alive), /readyz (it can do its job).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.ts';
import { formatHostPort } from '../flags.ts';
import { listenFailure } from './startup-error.ts';

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
  /** Open admin connections allowed; more are closed at once (default ADMIN_MAX_CONNECTIONS). */
  readonly maxConnections?: number;
}

/**
 * Probes and scrapes need a handful of connections. The cap keeps idle or hostile clients
 * of the admin port from taking the file descriptors the component's real work needs.
 */
export const ADMIN_MAX_CONNECTIONS = 32;
/** Whole request headers must arrive within this time (slowloris, or a silent client). */
const HEADERS_TIMEOUT_MS = 5_000;
/** A whole request, body included. */
const REQUEST_TIMEOUT_MS = 10_000;
/** An idle keep-alive connection between requests (Prometheus reconnects per scrape). */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/**
 * No byte either way: a client that connects and sends nothing (Node's headersTimeout
 * covers only a request that has begun), or stops reading its response. Collecting the
 * metrics takes milliseconds.
 */
const SOCKET_IDLE_TIMEOUT_MS = 5_000;
/**
 * Node enforces headersTimeout and requestTimeout only when it sweeps its connections,
 * every connectionsCheckingInterval (30 s by default), so a 5 s limit fired after up to
 * 35 s. Sweep every second.
 */
const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;
/** At most one warning per this period about connections refused at the cap. */
const DROP_LOG_INTERVAL_MS = 10_000;

export interface AdminServer {
  readonly server: Server;
  readonly address: AddressInfo;
  stop(): Promise<void>;
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { registry, notReadyReason, log } = options;
  const collect = options.collect ?? (() => registry.metrics());
  const server = createServer({ connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS });
  server.on('request', (req, res) => {
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
  server.maxConnections = options.maxConnections ?? ADMIN_MAX_CONNECTIONS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // A socket idle this long is destroyed, whatever state its HTTP parser is in (Node's own
  // server timeout leaves the decision to request and response listeners).
  server.on('connection', (socket) => {
    socket.setTimeout(SOCKET_IDLE_TIMEOUT_MS);
    socket.once('timeout', () => socket.destroy());
  });
  let dropped = 0;
  let lastDropLog = -Infinity;
  server.on('drop', () => {
    dropped++;
    const now = performance.now();
    if (now - lastDropLog < DROP_LOG_INTERVAL_MS) return;
    lastDropLog = now;
    log.warn(
      { maxConnections: server.maxConnections, dropped },
      'admin connection limit reached: new admin connections are closed',
    );
    dropped = 0;
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(listenFailure(err, 'admin address', formatHostPort(options.host, options.port)));
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  log.info({ address: `${address.address}:${address.port}` }, 'admin server listening');
  return {
    server,
    address,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
