// What the controller tells people, each thing once: a refused hostname (log, metric,
// Event on its object), hosts skipped for ipMode Proxy (log, metric), hosts left out
// because DNS is full (log, metric, Event on the ConfigMap), a Corefile it
// cannot edit (log, Event on the ConfigMap), and a Corefile without `reload` (log, metric,
// Event on the ConfigMap) — reported again only when the ConfigMap or the error changes,
// not on every reconcile.
import {
  corefileReloads,
  type HairpinError,
  type HostRejection,
  type ObjectRef,
} from '@hairpin/shared';
import type { Logger } from '@hairpin/shared/runtime';
import {
  COREFILE_WITHOUT_RELOAD,
  HOSTNAME_REFUSED,
  HOSTNAME_REFUSED_PREFIX,
  HOSTS_NOT_SERVED,
  REJECTION_MEMORY,
} from './constants.ts';
import type { EventRecorder } from './events.ts';
import type { ControllerMetrics } from './metrics.ts';
import {
  configMapRef,
  type CorefileEditMemo,
  type ReconcilePlan,
  type TargetState,
} from './plan.ts';

type Reloads = ReturnType<typeof corefileReloads>;

export class Reporter {
  private readonly log: Logger;
  private readonly metrics: ControllerMetrics;
  private readonly events: EventRecorder;
  private readonly rejections = new Set<string>();
  private proxyModeSignature = '';
  /** Per ConfigMap: the version and error last reported as uneditable. */
  private readonly uneditable = new Map<string, string>();
  /** The capacity shortfall last reported ('' while every host is served). */
  private capacitySignature = '';
  /** Per target ConfigMap: the version last read for `reload`, and what it said. */
  private readonly reloadSeen = new Map<string, { version: string; reloads: Reloads }>();

  constructor(options: { log: Logger; metrics: ControllerMetrics; events: EventRecorder }) {
    this.log = options.log;
    this.metrics = options.metrics;
    this.events = options.events;
  }

  rejected(rejected: readonly HostRejection[]): void {
    if (this.rejections.size > REJECTION_MEMORY) this.rejections.clear();
    for (const r of rejected) {
      const key = `${r.ref.uid ?? `${r.ref.namespace}/${r.ref.name}`}|${r.host}|${r.reason}`;
      if (this.rejections.has(key)) continue;
      this.rejections.add(key);
      this.metrics.rejectedHosts.inc({ reason: r.reason });
      const object = `${r.ref.kind} ${r.ref.namespace}/${r.ref.name}`;
      const host = r.host.slice(0, 300);
      this.log.warn({ object, host, reason: r.reason }, 'hostname refused');
      this.events.warn(r.ref, HOSTNAME_REFUSED, `${HOSTNAME_REFUSED_PREFIX}${r.message}`);
    }
  }

  proxyMode(skipped: ReconcilePlan['proxyMode']): void {
    const key = (s: ReconcilePlan['proxyMode'][number]) =>
      `${s.ref.namespace}/${s.ref.name}:${s.hosts.join(',')}`;
    const signature = skipped.map(key).sort().join(' ');
    if (signature === this.proxyModeSignature) return;
    const before = new Set(this.proxyModeSignature.split(' '));
    this.proxyModeSignature = signature;
    for (const s of skipped) {
      if (before.has(key(s))) continue;
      this.metrics.proxyModeSkipped.inc(s.hosts.length);
      this.log.info(
        { object: `Ingress ${s.ref.namespace}/${s.ref.name}`, hosts: s.hosts },
        'load balancer reports ipMode Proxy (KEP-1860): no hairpin needed, hosts skipped',
      );
    }
  }

  /** A ConfigMap that cannot be edited safely: reported once per version and error. */
  notEditable(ref: ObjectRef, version: string | undefined, err: HairpinError): void {
    const where = `${ref.namespace}/${ref.name}`;
    const signature = `${version ?? ''}|${err.code}|${err.message}`;
    if (this.uneditable.get(where) === signature) return;
    this.uneditable.set(where, signature);
    this.log.error(
      { err, configMap: where, code: err.code },
      'Corefile not edited: it cannot be edited safely; waiting for it or the hosts to change',
    );
    this.events.warn(ref, 'CorefileNotEditable', `${err.code}: ${err.message}`);
  }

  /**
   * Hosts left out because DNS is full: the gauge always; a log line and one Event on
   * each target ConfigMap when the shortfall changes (not on every reconcile). Called only
   * for a plan that writes (the controller holds an untrusted empty set before).
   */
  capacity(
    plan: Pick<ReconcilePlan, 'served' | 'notServed'>,
    targets: readonly TargetState[],
  ): void {
    const missing = plan.notServed.length;
    this.metrics.notServedHosts.set(missing);
    const signature = missing === 0 ? '' : `${plan.served.length}|${missing}`;
    if (signature === this.capacitySignature) return;
    const was = this.capacitySignature;
    this.capacitySignature = signature;
    if (missing === 0) {
      if (was !== '') this.log.info({ served: plan.served.length }, 'every host is served again');
      return;
    }
    const first = plan.notServed.slice(0, 5);
    this.log.warn(
      { served: plan.served.length, notServed: missing, firstNotServed: first },
      'DNS is full: hosts not served (capacity); the oldest objects are served first',
    );
    const message =
      `${missing} of ${plan.served.length + missing} hosts not served: the edited ConfigMap ` +
      `would exceed the API server's 1 MiB limit. Served: the hosts of the oldest objects ` +
      `first (creationTimestamp, then namespace/name). First left out: ${first.join(', ')}` +
      `${missing > first.length ? ', ...' : ''} (all of them: /status or \`hairpin-dns-controller status\`)`;
    for (const t of targets) {
      this.events.warn(
        configMapRef(t.target, t.configMap?.metadata?.uid),
        HOSTS_NOT_SERVED,
        message,
      );
    }
  }

  /**
   * Corefiles without the `reload` plugin: CoreDNS never picks up an edit until it
   * restarts. Read once per ConfigMap version: the gauge, and a log line and an Event when
   * a version says so.
   */
  reloads(
    targets: readonly TargetState[],
    extraDirectives: readonly string[],
    memo?: CorefileEditMemo,
  ): void {
    for (const { target, configMap } of targets) {
      const where = `${target.namespace}/${target.name}`;
      const text = configMap?.data?.[target.key];
      const version = configMap?.metadata?.resourceVersion ?? '';
      const seen = this.reloadSeen.get(where);
      if (text === undefined || seen?.version === version) continue;
      // The version our own write made: only our lines changed, none of them `reload`, so
      // the answer stands (no parse of a Corefile of 20,000 hosts after every write).
      if (seen !== undefined && memo?.made(`${where}:${target.key}`, text) === true) {
        this.reloadSeen.set(where, { version, reloads: seen.reloads });
        continue;
      }
      let reloads: Reloads;
      try {
        reloads = corefileReloads(text, { extraDirectives });
      } catch {
        continue; // An unparseable Corefile is reported as not editable.
      }
      const before = this.reloadSeen.get(where)?.reloads;
      this.reloadSeen.set(where, { version, reloads });
      this.metrics.corefileWithoutReload.set({ configmap: where }, reloads === 'no' ? 1 : 0);
      if (reloads !== 'no' || before === 'no') continue;
      this.log.warn(
        { configMap: where },
        "the Corefile has no reload plugin: CoreDNS applies hairpin's edits only when it restarts",
      );
      this.events.warn(
        configMapRef(target, configMap?.metadata?.uid),
        COREFILE_WITHOUT_RELOAD,
        'The Corefile has no reload plugin, so CoreDNS applies changes (hairpin\'s included) only when it restarts: add "reload" to its root server block, or restart CoreDNS after each change (kubectl -n kube-system rollout restart deployment/coredns).',
      );
    }
  }

  /** What each target Corefile said about `reload` when last read (for /status). */
  reloadStates(): ReadonlyMap<string, Reloads> {
    return new Map([...this.reloadSeen].map(([k, v]) => [k, v.reloads]));
  }

  /** The ConfigMap could be edited (again): a later failure is reported anew. */
  editable(ref: ObjectRef): void {
    this.uneditable.delete(`${ref.namespace}/${ref.name}`);
  }
}
