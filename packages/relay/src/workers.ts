// --workers N: N relay processes share the listening sockets (node:cluster), so the relay
// can use every core. Off by default: one process is the measured configuration.
//
// The kernel spreads new connections over the workers (SCHED_NONE: every worker accepts
// on the shared socket; the primary does not proxy accepts). The primary serves the admin
// endpoints: /metrics aggregates the workers' registries, /readyz is ready when every
// worker reports ready. A worker that dies is replaced; SIGTERM is passed to every worker,
// each drains, and the primary exits 0 when they are gone.
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { startAdminServer, untilSignal, type Logger } from '@hairpin/shared/runtime';
import type { RelayConfig } from './config.ts';
import { runRelay } from './run.ts';

interface ReadyMessage {
  readonly hairpinRelayReady: string | null;
}

function isReadyMessage(m: unknown): m is ReadyMessage {
  return typeof m === 'object' && m !== null && 'hairpinRelayReady' in m;
}

export async function runPrimary(config: RelayConfig, log: Logger): Promise<number> {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const readiness = new Map<Worker, string | null>();
  let stopping = false;
  const fork = (): void => {
    const worker = cluster.fork();
    readiness.set(worker, 'starting');
    worker.on('message', (m: unknown) => {
      if (isReadyMessage(m)) readiness.set(worker, m.hairpinRelayReady);
    });
    worker.on('exit', (code, signal) => {
      readiness.delete(worker);
      if (stopping) return;
      log.error({ worker: worker.id, code, signal }, 'relay worker exited; starting another');
      setTimeout(fork, 1_000).unref();
    });
  };
  for (let i = 0; i < config.workers; i++) fork();
  log.info({ workers: config.workers }, 'relay workers started');

  const aggregator = new AggregatorRegistry();
  const admin = await startAdminServer({
    host: config.admin.host,
    port: config.admin.port,
    registry: aggregator as unknown as Registry,
    collect: () => aggregator.clusterMetrics(),
    notReadyReason: () => {
      if (stopping) return 'shutting down';
      if (readiness.size < config.workers)
        return `${readiness.size} of ${config.workers} workers running`;
      for (const reason of readiness.values()) if (reason !== null) return reason;
      return null;
    },
    log,
  });
  const signal = await untilSignal();
  stopping = true;
  log.info({ signal }, 'stopping relay workers');
  const workers = [...readiness.keys()];
  for (const w of workers) w.process.kill('SIGTERM');
  await Promise.all(workers.map((w) => (w.isDead() ? undefined : once(w, 'exit'))));
  await admin.stop();
  log.info('stopped');
  return 0;
}

export async function runWorker(
  config: RelayConfig,
  log: Logger,
  registry: Registry,
): Promise<number> {
  // Constructing one installs prom-client's listener that answers the primary's requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  const running = await runRelay(config, { log, registry, admin: false });
  const report = (): void => {
    process.send?.({ hairpinRelayReady: running.relay.notReadyReason() } satisfies ReadyMessage);
  };
  report();
  const timer = setInterval(report, 1_000);
  // The primary relays SIGTERM; SIGINT from a terminal reaches every process of the group.
  await untilSignal();
  await running.stop();
  clearInterval(timer);
  // The IPC channel to the primary would keep this process alive.
  process.disconnect?.();
  return 0;
}
