// The relay process: relay + admin server + signals. main.ts calls runRelay with the
// parsed config; tests and the demo call it too, with their own logger and registry.
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from 'pino';
import { startAdminServer, type AdminServer } from '@hairpin/shared/runtime';
import type { RelayConfig } from './config.ts';
import { createRelayMetrics } from './metrics.ts';
import { createRelay, type Relay } from './relay.ts';
import type { LookupAll } from './resolver.ts';

export interface RunningRelay {
  readonly relay: Relay;
  /** undefined in a worker process: the cluster primary serves the admin endpoints. */
  readonly admin: AdminServer | undefined;
  readonly registry: Registry;
  /** SIGTERM's sequence: not ready at once, stop accepting, drain, close the rest. */
  shutdown(): Promise<void>;
}

export async function startRelay(
  config: RelayConfig,
  deps: { log: Logger; registry?: Registry; lookup?: LookupAll; admin?: boolean },
): Promise<RunningRelay> {
  const registry = deps.registry ?? new Registry();
  collectDefaultMetrics({ register: registry });
  const log = deps.log;
  const relay = createRelay({
    routes: config.routes,
    proxyProtocol: config.proxyProtocol,
    connectTimeoutMs: config.connectTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    maxConnections: config.maxConnections,
    resolveIntervalMs: config.resolveIntervalMs,
    holdNxMs: config.holdNxMs,
    log,
    metrics: createRelayMetrics(registry),
    ...(deps.lookup === undefined ? {} : { lookup: deps.lookup }),
  });
  let shuttingDown = false;
  const admin =
    deps.admin === false
      ? undefined
      : await startAdminServer({
          host: config.admin.host,
          port: config.admin.port,
          registry,
          notReadyReason: () => (shuttingDown ? 'shutting down' : relay.notReadyReason()),
          log,
        });
  try {
    await relay.listen();
  } catch (err) {
    await admin?.close();
    await relay.close(0);
    throw err;
  }
  let done: Promise<void> | undefined;
  return {
    relay,
    admin,
    registry,
    shutdown() {
      done ??= (async () => {
        shuttingDown = true;
        log.info(
          { open: relay.activeConnections(), drainMs: config.drainTimeoutMs },
          'shutting down',
        );
        await relay.close(config.drainTimeoutMs);
        await admin?.close();
        log.info('stopped');
      })();
      return done;
    },
  };
}
