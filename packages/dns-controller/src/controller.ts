// The dns-controller, wired (controller-runtime's split): caches feed one work queue;
// each run takes a snapshot, asks planReconcile what to do, and carries it out through
// the ConfigMapWriter, reporting what it refused. Every decision lives in plan.ts; every
// tunable in constants.ts.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { HairpinError, HOSTS_CONFIGMAP_NAME, HOSTS_KEY } from '@hairpin/shared';
import {
  done,
  retry,
  terminal,
  WorkQueue,
  type Logger,
  type WorkResult,
} from '@hairpin/shared/runtime';
import { ControllerCaches } from './caches.ts';
import type { ConfigMapTarget, ControllerConfig } from './config.ts';
import { ConfigMapWriter } from './configmap-writer.ts';
import { CONFIRM_EMPTY_MS, RECONCILE_BACKOFF } from './constants.ts';
import type { EventRecorder } from './events.ts';
import { IngressHostsMemo } from './desired-hosts.ts';
import type { ControllerMetrics } from './metrics.ts';
import {
  CorefileEditMemo,
  decideSnapshot,
  planReconcile,
  type ReconcilePlan,
  type Snapshot,
  type TargetState,
} from './plan.ts';
import { Reporter } from './reporter.ts';
import { isInvalid, RefusedWrites } from './refused-writes.ts';
import { buildStatus, ConfigMapWriteLog, type StatusReport, type WriteResult } from './status.ts';

export interface ControllerOptions {
  readonly kubeConfig: KubeConfig;
  readonly config: ControllerConfig;
  readonly log: Logger;
  readonly metrics: ControllerMetrics;
  readonly events: EventRecorder;
  /** How long an empty host set must persist before rules are removed (not trusted at once). */
  readonly confirmEmptyMs?: number;
}

export class DnsController {
  private readonly o: ControllerOptions;
  private readonly caches: ControllerCaches;
  private readonly queue: WorkQueue;
  private readonly writer: ConfigMapWriter;
  private readonly reporter: Reporter;
  private leading = false;
  private emptySince: number | undefined;
  /** Hosts written by the last successful reconcile (undefined: none yet). */
  lastHosts: readonly string[] | undefined;
  /** Each target's last outcome, for /status. */
  private readonly writes = new ConfigMapWriteLog();
  /** The hosts the last plan left out for capacity (for /status). */
  private notServed: ReadonlySet<string> = new Set();
  /** Writes the API server refused as invalid (422, 413): not sent again unchanged. */
  private readonly refusedWrites = new RefusedWrites();
  /** The last Corefile edits: a reconcile that changes nothing does not edit again. */
  private readonly editMemo = new CorefileEditMemo();
  /** Each Ingress's hosts: a reconcile checks only the objects that changed. */
  private readonly hostsMemo = new IngressHostsMemo();
  /**
   * What the last pass that ended done left behind; a pass that would read the same (the
   * watch events of its own writes, say) has nothing to do. Undefined: run.
   */
  private settled: Settled | undefined;
  /** The resourceVersions this pass's writes got, by namespace/name. */
  private readonly written = new Map<string, string | undefined>();

  constructor(options: ControllerOptions) {
    this.o = options;
    const { log, metrics } = options;
    this.queue = new WorkQueue({
      work: () => this.reconcile(),
      debounceMs: options.config.debounceMs,
      backoff: RECONCILE_BACKOFF,
      onError: (err, retryInMs) => log.error({ err, retryInMs }, 'reconcile failed'),
    });
    this.caches = new ControllerCaches({ ...options, onChange: () => this.queue.add() });
    this.writer = new ConfigMapWriter({
      core: options.kubeConfig.makeApiClient(CoreV1Api),
      log,
      onConflict: () => metrics.reconciles.inc({ result: 'conflict' }),
      onWritten: (t, version) => this.written.set(`${t.namespace}/${t.name}`, version),
    });
    this.reporter = new Reporter(options);
  }

  start(): void {
    this.queue.start();
    this.caches.start();
  }

  async stop(): Promise<void> {
    this.caches.stop();
    await this.queue.stop();
  }

  setLeading(leading: boolean): void {
    this.leading = leading;
    this.settled = undefined;
    if (leading) this.queue.add();
  }

  notReadyReason(): string | null {
    return this.caches.synced ? null : 'caches not synced yet';
  }

  /** The /status report: the decision from the caches now, this replica's writes. */
  status(): StatusReport {
    const snapshot = this.caches.snapshot({ lastHosts: this.lastHosts, emptySince: undefined });
    return buildStatus({
      identity: this.o.config.podName,
      leader: this.leading,
      synced: this.caches.synced,
      decision: decideSnapshot(snapshot, { ...this.o.config, hostsMemo: this.hostsMemo }),
      notServed: this.notServed,
      writes: this.writes.list(),
      reloads: this.reporter.reloadStates(),
      now: new Date(),
    });
  }

  get gatewayApiFound(): boolean {
    return this.caches.gatewayApiFound;
  }

  /** One level-based pass: the whole desired state from the caches, at most one write each. */
  private async reconcile(): Promise<WorkResult> {
    const { metrics } = this.o;
    // Not leading: the leader writes; this replica runs again when it becomes leader.
    if (!this.leading) return done();
    // Not synced: each cache's first list enqueues a run.
    if (!this.caches.synced) {
      metrics.reconciles.inc({ result: 'skipped' });
      return done();
    }
    const snapshot = this.caches.snapshot({
      lastHosts: this.lastHosts,
      emptySince: this.emptySince,
    });
    const inputs = passInputs(snapshot);
    if (this.settled !== undefined && unchanged(this.settled, inputs)) {
      metrics.reconciles.inc({ result: 'skipped' });
      return done();
    }
    this.settled = undefined;
    this.written.clear();
    const end = metrics.reconcileSeconds.startTimer();
    const cpu = process.threadCpuUsage();
    try {
      // Before the plan's edits: a Corefile the last pass wrote is still the memo's last.
      this.reporter.reloads(snapshot.corefiles, this.o.config.extraDirectives, this.editMemo);
      const plan = planReconcile(
        snapshot,
        {
          ...this.o.config,
          confirmEmptyMs: this.o.confirmEmptyMs ?? CONFIRM_EMPTY_MS,
          editMemo: this.editMemo,
          hostsMemo: this.hostsMemo,
        },
        Date.now(),
      );
      this.reporter.rejected(plan.rejected);
      this.reporter.proxyMode(plan.proxyMode);
      this.notServed = new Set(plan.notServed);
      const held = this.holdEmpty(plan);
      if (held !== undefined) {
        metrics.reconciles.inc({ result: 'skipped' });
        return held;
      }
      this.reporter.capacity(plan, editedOf(snapshot));
      const result = await this.carryOut(plan, snapshot);
      metrics.managedHosts.set(plan.served.length);
      metrics.reconciles.inc({ result: result.kind === 'done' ? 'success' : 'error' });
      if (result.kind === 'done') {
        this.lastHosts = plan.served;
        // What the next pass reads if nothing else changes: our writes, read back.
        this.settled = settledAfter(snapshot, inputs, this.o.config.namespace, this.written);
      }
      return result;
    } catch (err) {
      metrics.reconciles.inc({ result: 'error' });
      throw err;
    } finally {
      end();
      const { user, system } = process.threadCpuUsage(cpu);
      metrics.reconcileCpuSeconds.observe((user + system) / 1e6);
    }
  }

  /** An empty host set not trusted yet: what to do instead of writing. */
  private holdEmpty(plan: ReconcilePlan): WorkResult | undefined {
    const { empty } = plan;
    if (empty.kind === 'trusted') {
      this.emptySince = undefined;
      return undefined;
    }
    if (empty.kind === 'unhealthy-watch') {
      // The watch's recovery (a successful list) enqueues the next run.
      this.o.log.warn(
        { managed: empty.managed },
        'no hosts, but the Ingress watch is not healthy: keeping the rules',
      );
      return done();
    }
    this.emptySince = empty.since;
    this.o.log.info(
      { managed: empty.managed, confirmInMs: empty.waitMs },
      'no hosts any more: confirming before removing every rule',
    );
    return retry(empty.waitMs);
  }

  /** The plan's writes; an uneditable Corefile is terminal until it or the hosts change. */
  private async carryOut(plan: ReconcilePlan, snapshot: Snapshot): Promise<WorkResult> {
    for (const note of plan.waiting) this.o.log.warn(note);
    const refused = [...plan.refused];
    // For /status: what this pass did to each target it wrote or refused.
    const touched: { target: ConfigMapTarget; result: WriteResult; error?: unknown }[] = [];
    let failed = 0;
    let invalid = 0;
    for (const w of plan.writes) {
      // A write the API server refused as invalid cannot succeed until its content or the
      // ConfigMap changes: not sent again (no full-size write storms), reported once.
      const before = this.refusedWrites.refusal(w);
      if (before !== undefined) {
        invalid++;
        touched.push({ target: w.target, result: 'failed', error: before });
        continue;
      }
      try {
        const options = { cached: w.current, edited: w.data, create: w.create };
        const outcome = await this.writer.apply(w.target, w.edit, options);
        this.refusedWrites.forget(w);
        this.reporter.editable(w.ref);
        touched.push({
          target: w.target,
          result:
            outcome === 'absent' ? 'waiting' : outcome === 'unchanged' ? 'unchanged' : 'written',
        });
      } catch (err) {
        if (err instanceof HairpinError) {
          refused.push({ target: w.target, ref: w.ref, version: undefined, error: err });
        } else if (isInvalid(err)) {
          invalid++;
          this.refusedWrites.remember(w, err);
          touched.push({ target: w.target, result: 'failed', error: err });
          this.o.log.error(
            { err, configMap: `${w.ref.namespace}/${w.ref.name}` },
            'write refused by the API server: not retried until the hosts or the ConfigMap change',
          );
        } else {
          failed++;
          touched.push({ target: w.target, result: 'failed', error: err });
          this.o.log.error({ err, configMap: `${w.ref.namespace}/${w.ref.name}` }, 'write failed');
        }
      }
    }
    for (const r of refused) {
      this.reporter.notEditable(r.ref, r.version, r.error);
      touched.push({ target: r.target, result: 'failed', error: r.error });
    }
    this.writes.recordPass(
      configMapsOf(snapshot, this.o.config.namespace).map((t) => ({
        target: t.target,
        present: t.configMap !== undefined,
      })),
      touched,
    );
    if (failed > 0) return retry();
    if (refused.length > 0) return terminal(`${refused.length} ConfigMap(s) cannot be edited`);
    if (invalid > 0) return terminal(`${invalid} write(s) refused by the API server`);
    return done();
  }
}

/**
 * What a pass reads: the cached objects (by identity: the caches replace an object on each
 * change and keep it otherwise), each ConfigMap's resourceVersion, the Ingress watch's
 * health. The same inputs give the same plan.
 */
interface PassInputs {
  readonly lists: readonly (readonly unknown[])[];
  readonly versions: readonly (string | undefined)[];
  readonly ingressWatchHealthy: boolean;
}

/**
 * What a pass that succeeded left: the inputs it read, with, for each ConfigMap it wrote,
 * the version its write made. The version it read stays accepted too until the write's
 * watch event arrives: a pass before then would plan from a cache behind its own write.
 */
interface Settled {
  readonly read: PassInputs;
  readonly versions: readonly (readonly (string | undefined)[])[];
}

/** The ConfigMaps a pass edits: the Corefiles, and the import target. */
const editedOf = (s: Snapshot): TargetState[] => [
  ...s.corefiles,
  ...(s.importTarget === undefined ? [] : [s.importTarget]),
];

/** Every ConfigMap a pass reads and may write, in a fixed order: those, and hairpin-hosts. */
const configMapsOf = (s: Snapshot, namespace: string): TargetState[] => [
  ...editedOf(s),
  { target: { namespace, name: HOSTS_CONFIGMAP_NAME, key: HOSTS_KEY }, configMap: s.published },
];

function passInputs(s: Snapshot): PassInputs {
  return {
    lists: [s.ingresses, s.gateways, s.routes, s.services],
    versions: configMapsOf(s, '').map((t) => t.configMap?.metadata?.resourceVersion),
    ingressWatchHealthy: s.ingressWatchHealthy,
  };
}

/** `read` and the versions the pass's writes made (`written`, by namespace/name). */
function settledAfter(
  s: Snapshot,
  read: PassInputs,
  namespace: string,
  written: ReadonlyMap<string, string | undefined>,
): Settled {
  const versions = configMapsOf(s, namespace).map((t, i) => {
    const key = `${t.target.namespace}/${t.target.name}`;
    return written.has(key) ? [written.get(key), read.versions[i]] : [read.versions[i]];
  });
  return { read, versions };
}

function unchanged(settled: Settled, now: PassInputs): boolean {
  const { read } = settled;
  const same = <T>(x: readonly T[], y: readonly T[]) =>
    x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    read.ingressWatchHealthy === now.ingressWatchHealthy &&
    settled.versions.length === now.versions.length &&
    settled.versions.every((accepted, i) => accepted.includes(now.versions[i])) &&
    read.lists.length === now.lists.length &&
    read.lists.every((list, i) => same(list, now.lists[i]!))
  );
}
