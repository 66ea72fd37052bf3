// --workers N|auto: N relay processes, each binding its own listening sockets with
// SO_REUSEPORT, so the kernel spreads new connections over them and the primary does no
// accepting and passes no handles. Off by default: one process is the measured
// configuration, and more replicas spread load as well (docs/relay.md).
//
// The primary serves the admin endpoints: /metrics aggregates the workers' registries,
// /readyz is ready when every worker reports ready. A worker that cannot start (an address
// in use, say) stops the whole relay with exit 1, as a single process would; a worker that
// dies later is replaced. SIGTERM is passed to every worker, each drains, and the primary
// exits 0 when they are gone.
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { startAdminServer, untilSignal, type Logger } from '@hairpin/shared/runtime';
import type { RelayConfig } from './config.ts';
import { runRelay } from './run.ts';

interface ReadyMessage {
  readonly hairpinRelayReady: string | null;
}
interface FatalMessage {
  readonly hairpinRelayFatal: string;
}

function isReadyMessage(m: unknown): m is ReadyMessage {
  return typeof m === 'object' && m !== null && 'hairpinRelayReady' in m;
}
function isFatalMessage(m: unknown): m is FatalMessage {
  return typeof m === 'object' && m !== null && 'hairpinRelayFatal' in m;
}

export async function runPrimary(config: RelayConfig, log: Logger): Promise<number> {
  const readiness = new Map<Worker, string | null>();
  let stopping = false;
  let failure: ((reason: string) => void) | undefined;
  const failed = new Promise<string>((resolve) => (failure = resolve));
  const fork = (): void => {
    const worker = cluster.fork();
    readiness.set(worker, 'starting');
    let started = false;
    worker.on('message', (m: unknown) => {
      if (isReadyMessage(m)) {
        started = true;
        readiness.set(worker, m.hairpinRelayReady);
      } else if (isFatalMessage(m)) {
        failure?.(m.hairpinRelayFatal);
      }
    });
    worker.on('exit', (code, signal) => {
      readiness.delete(worker);
      if (stopping) return;
      if (!started) {
        failure?.(`relay worker ${worker.id} exited during startup (code ${code}, ${signal})`);
        return;
      }
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
  const outcome = await Promise.race([
    untilSignal().then((signal) => ({ signal })),
    failed.then((reason) => ({ reason })),
  ]);
  stopping = true;
  const workers = [...readiness.keys()];
  if ('reason' in outcome) {
    process.stderr.write(`fatal: ${outcome.reason}\n`);
  } else {
    log.info({ signal: outcome.signal }, 'stopping relay workers');
  }
  for (const w of workers) if (!w.isDead()) w.process.kill('SIGTERM');
  await Promise.all(workers.map((w) => (w.isDead() ? undefined : once(w, 'exit'))));
  await admin.stop();
  if ('reason' in outcome) return 1;
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
  let running;
  try {
    running = await runRelay(config, { log, registry, admin: false, reusePort: true });
  } catch (err) {
    // The primary reports it (one line) and stops the other workers.
    const reason = err instanceof Error ? err.message : String(err);
    await new Promise<void>((resolve) => {
      if (process.send === undefined) resolve();
      else process.send({ hairpinRelayFatal: reason } satisfies FatalMessage, () => resolve());
    });
    process.disconnect?.();
    return 1;
  }
  const report = (): void => {
    process.send?.({ hairpinRelayReady: running.relay.notReadyReason() } satisfies ReadyMessage);
  };
  report();
  const timer = setInterval(report, 1_000);
  // The primary relays SIGTERM; SIGINT from a terminal reaches every process of the group,
  // so one Ctrl-C may arrive here twice. If the primary exits (a second Ctrl-C), the IPC
  // channel closes and the cluster module ends this worker.
  await untilSignal('ignore');
  await running.stop();
  clearInterval(timer);
  // The IPC channel to the primary would keep this process alive.
  process.disconnect?.();
  return 0;
}
