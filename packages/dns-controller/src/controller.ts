// The dns-controller: informers feed one level-based, debounced reconcile that computes
// the whole desired state fresh from the caches and makes at most one write per
// ConfigMap, only when its content differs (level-based, as controller-runtime reconciles).
import {
  CoreV1Api,
  CustomObjectsApi,
  NetworkingV1Api,
  type KubeConfig,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Ingress,
  type V1Service,
} from '@kubernetes/client-node';
import {
  applyCorefileHosts,
  encodePublishedHosts,
  ErrorCodes,
  HairpinError,
  HOSTS_CONFIGMAP_NAME,
  managedCorefileHosts,
  renderCorefileOverride,
  type ObjectRef,
} from '@hairpin/shared';
import { ResilientInformer, type ListResult } from '@hairpin/shared/kube';
import type { Logger } from '@hairpin/shared/runtime';
import type { ConfigMapTarget, ControllerConfig } from './config.ts';
import { desiredHosts, type DesiredHosts } from './desired-hosts.ts';
import type { EventRecorder } from './events.ts';
import type { ControllerMetrics } from './metrics.ts';
import { buildStatus, ConfigMapWriteLog, type StatusReport } from './status.ts';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export interface ControllerOptions {
  readonly kubeConfig: KubeConfig;
  readonly config: ControllerConfig;
  readonly log: Logger;
  readonly metrics: ControllerMetrics;
  readonly events: EventRecorder;
  /** How long an empty host set must persist before rules are removed (not trusted at once). */
  readonly confirmEmptyMs?: number;
}

function statusCode(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

function configMapRef(t: ConfigMapTarget, uid?: string): ObjectRef {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    namespace: t.namespace,
    name: t.name,
    ...(uid === undefined ? {} : { uid }),
  };
}

export class DnsController {
  private readonly o: ControllerOptions;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly ingresses: ResilientInformer<V1Ingress>;
  private readonly services: ResilientInformer<V1Service>;
  private readonly targets = new Map<ConfigMapTarget, ResilientInformer<V1ConfigMap>>();
  private readonly published: ResilientInformer<V1ConfigMap>;
  private gateways: ResilientInformer<KubernetesObject> | undefined;
  private routes: ResilientInformer<KubernetesObject> | undefined;
  private discoveryTimer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private leading = false;
  private retries = 0;
  private emptySince: number | undefined;
  private reportedRejections = new Set<string>();
  private proxyModeSignature = '';
  /** Hosts written by the last successful reconcile (undefined: none yet). */
  lastHosts: readonly string[] | undefined;
  /** Each target's last write outcome, for /status. */
  readonly writes = new ConfigMapWriteLog();

  constructor(options: ControllerOptions) {
    this.o = options;
    const kc = options.kubeConfig;
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    const networking = kc.makeApiClient(NetworkingV1Api);
    const onChange = (): void => this.enqueue();
    const common = { kubeConfig: kc, log: options.log, onChange, onSynced: onChange };
    this.ingresses = new ResilientInformer<V1Ingress>({
      ...common,
      name: 'ingresses',
      path: '/apis/networking.k8s.io/v1/ingresses',
      list: () => networking.listIngressForAllNamespaces(),
    });
    this.services = new ResilientInformer<V1Service>({
      ...common,
      name: 'services',
      path: '/api/v1/services',
      list: () => this.core.listServiceForAllNamespaces(),
    });
    const configMap = (namespace: string, name: string) => {
      const fieldSelector = `metadata.name=${name}`;
      return new ResilientInformer<V1ConfigMap>({
        ...common,
        name: `configmap ${namespace}/${name}`,
        path: `/api/v1/namespaces/${namespace}/configmaps`,
        fieldSelector,
        list: () => this.core.listNamespacedConfigMap({ namespace, fieldSelector }),
      });
    };
    const { config } = options;
    for (const t of [...config.corefiles, ...(config.importTarget ? [config.importTarget] : [])]) {
      this.targets.set(t, configMap(t.namespace, t.name));
    }
    this.published = configMap(config.namespace, HOSTS_CONFIGMAP_NAME);
  }

  private get informers(): ResilientInformer<KubernetesObject>[] {
    return [
      this.ingresses,
      this.services,
      this.published,
      ...this.targets.values(),
      ...(this.gateways ? [this.gateways] : []),
      ...(this.routes ? [this.routes] : []),
    ] as ResilientInformer<KubernetesObject>[];
  }

  start(): void {
    this.stopped = false;
    for (const i of this.informers) i.start();
    if (this.o.config.gatewayApi === 'auto') void this.discoverGatewayApi();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.debounce);
    clearTimeout(this.retry);
    clearTimeout(this.discoveryTimer);
    for (const i of this.informers) i.stop();
    await this.running;
  }

  setLeading(leading: boolean): void {
    this.leading = leading;
    if (leading) this.enqueue();
  }

  notReadyReason(): string | null {
    const waiting = this.informers.find((i) => !i.synced);
    return waiting === undefined ? null : 'caches not synced yet';
  }

  /** The /status report: the decision from the caches now, this replica's writes. */
  status(): StatusReport {
    return buildStatus({
      identity: this.o.config.podName,
      leader: this.leading,
      synced: this.notReadyReason() === null,
      decision: this.decide(),
      writes: this.writes.list(),
      now: new Date(),
    });
  }

  private decide(): DesiredHosts {
    const { config } = this.o;
    return desiredHosts({
      ingresses: this.ingresses.list(),
      gateways: this.gateways?.list() ?? [],
      routes: this.routes?.list() ?? [],
      services: this.services.list(),
      filter: {
        ingressSources: config.sources,
        ingressClasses: config.ingressClasses,
        gatewayClasses: config.gatewayClasses,
      },
      policy: { clusterDomain: config.clusterDomain, allowedSuffixes: config.allowedSuffixes },
    });
  }

  get gatewayApiFound(): boolean {
    return this.gateways !== undefined;
  }

  /** Gateway API: watched once its CRDs are served; looked for at start and periodically. */
  private async discoverGatewayApi(): Promise<void> {
    if (this.stopped || this.gateways !== undefined) return;
    try {
      await this.custom.listClusterCustomObject({
        group: GATEWAY_GROUP,
        version: 'v1',
        plural: 'gateways',
        limit: 1,
      });
      const make = (plural: string) =>
        new ResilientInformer<KubernetesObject>({
          kubeConfig: this.o.kubeConfig,
          log: this.o.log,
          onChange: () => this.enqueue(),
          onSynced: () => this.enqueue(),
          name: plural,
          path: `/apis/${GATEWAY_GROUP}/v1/${plural}`,
          list: () =>
            this.custom.listClusterCustomObject({
              group: GATEWAY_GROUP,
              version: 'v1',
              plural,
            }) as Promise<ListResult<KubernetesObject>>,
        });
      this.gateways = make('gateways');
      this.routes = make('httproutes');
      this.gateways.start();
      this.routes.start();
      this.o.log.info('Gateway API found: watching Gateways and HTTPRoutes');
      return;
    } catch (err) {
      if (statusCode(err) !== 404) this.o.log.warn({ err }, 'Gateway API discovery failed');
    }
    this.discoveryTimer = setTimeout(
      () => void this.discoverGatewayApi(),
      this.o.config.discoveryIntervalMs,
    );
    this.discoveryTimer.unref();
  }

  /** Every event lands here: one key, debounced. */
  enqueue(): void {
    if (this.stopped) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reconcile(), this.o.config.debounceMs);
  }

  /** One reconcile at a time; a request during one runs another right after. */
  reconcile(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = this.reconcileOnce().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.enqueue();
      }
    });
    return this.running;
  }

  private async reconcileOnce(): Promise<void> {
    const { metrics, log, config } = this.o;
    if (!this.leading || this.stopped) return;
    if (
      !this.ingresses.synced ||
      !this.services.synced ||
      [...this.targets.values()].some((i) => !i.synced)
    ) {
      metrics.reconciles.inc({ result: 'skipped' });
      return;
    }
    const end = metrics.reconcileSeconds.startTimer();
    try {
      const decision = this.decide();
      this.reportRejections(decision.rejected);
      this.reportProxyMode(decision.proxyMode);
      const hosts = decision.hosts;
      if (!this.trustEmpty(hosts)) return;

      let failed = false;
      for (const [target, informer] of this.targets) {
        const ok =
          target === config.importTarget
            ? await this.writeImport(target, informer, hosts)
            : await this.writeCorefile(target, informer, hosts);
        failed ||= !ok;
      }
      failed = !(await this.publish(hosts)) || failed;
      metrics.managedHosts.set(hosts.length);
      if (failed) throw new Error('some targets could not be written');
      this.lastHosts = hosts;
      this.retries = 0;
      metrics.reconciles.inc({ result: 'success' });
    } catch (err) {
      metrics.reconciles.inc({ result: 'error' });
      // Retried with backoff: a later change or the retry timer runs it again.
      this.retries++;
      const delay = Math.min(30_000, 250 * 2 ** Math.min(this.retries, 7));
      if (!(err instanceof Error && err.message === 'some targets could not be written')) {
        log.error({ err, retryInMs: delay }, 'reconcile failed');
      }
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.enqueue(), delay);
      this.retry.unref();
    } finally {
      end();
    }
  }

  /**
   * A sudden drop to zero hosts is not trusted at once: it is acted on only while the
   * Ingress watch is healthy and after it has persisted for confirmEmptyMs (an empty cache
   * after a failed or partial list must not wipe every rule).
   */
  private trustEmpty(hosts: readonly string[]): boolean {
    const had = this.lastHosts?.length ?? this.currentlyManagedCount();
    if (hosts.length > 0 || had === 0) {
      this.emptySince = undefined;
      return true;
    }
    if (!this.ingresses.healthy) {
      this.o.log.warn(
        { managed: had },
        'no hosts, but the Ingress watch is not healthy: keeping the rules',
      );
      return false;
    }
    const confirm = this.o.confirmEmptyMs ?? 3_000;
    const now = Date.now();
    this.emptySince ??= now;
    if (now - this.emptySince >= confirm) return true;
    this.o.log.info(
      { managed: had, confirmInMs: confirm },
      'no hosts any more: confirming before removing every rule',
    );
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.enqueue(), confirm - (now - this.emptySince) + 10);
    this.retry.unref();
    return false;
  }

  private currentlyManagedCount(): number {
    let n = 0;
    for (const [target, informer] of this.targets) {
      const text = informer.get(target.name, target.namespace)?.data?.[target.key];
      if (text === undefined) continue;
      try {
        n = Math.max(
          n,
          managedCorefileHosts(text, {
            target: this.o.config.relayFqdn,
            extraDirectives: this.o.config.extraDirectives,
          }).length,
        );
      } catch {
        // An unparseable Corefile is reported when it is written to.
      }
    }
    return n;
  }

  private reportRejections(
    rejected: readonly { host: string; reason: string; message: string; ref: ObjectRef }[],
  ): void {
    if (this.reportedRejections.size > 10_000) this.reportedRejections.clear();
    for (const r of rejected) {
      const key = `${r.ref.uid ?? `${r.ref.namespace}/${r.ref.name}`}|${r.host}|${r.reason}`;
      if (this.reportedRejections.has(key)) continue;
      this.reportedRejections.add(key);
      this.o.metrics.rejectedHosts.inc({ reason: r.reason });
      this.o.log.warn(
        {
          object: `${r.ref.kind} ${r.ref.namespace}/${r.ref.name}`,
          host: r.host.slice(0, 300),
          reason: r.reason,
        },
        'hostname refused',
      );
      this.o.events.warn(
        r.ref,
        'HostnameRefused',
        `hairpin will not route this host: ${r.message}`,
      );
    }
  }

  private reportProxyMode(skipped: readonly { ref: ObjectRef; hosts: readonly string[] }[]): void {
    const signature = skipped
      .map((s) => `${s.ref.namespace}/${s.ref.name}:${s.hosts.join(',')}`)
      .sort()
      .join(' ');
    if (signature === this.proxyModeSignature) return;
    const before = new Set(this.proxyModeSignature.split(' '));
    this.proxyModeSignature = signature;
    for (const s of skipped) {
      if (before.has(`${s.ref.namespace}/${s.ref.name}:${s.hosts.join(',')}`)) continue;
      this.o.metrics.proxyModeSkipped.inc(s.hosts.length);
      this.o.log.info(
        { object: `Ingress ${s.ref.namespace}/${s.ref.name}`, hosts: s.hosts },
        'load balancer reports ipMode Proxy (KEP-1860): no hairpin needed, hosts skipped',
      );
    }
  }

  /** Read-modify-replace with resourceVersion; 409 re-reads and retries with backoff. */
  private async replaceConfigMap(
    target: ConfigMapTarget,
    cached: V1ConfigMap,
    edit: (cm: V1ConfigMap) => V1ConfigMap | undefined,
  ): Promise<boolean> {
    let current = cached;
    for (let attempt = 0; ; attempt++) {
      const next = edit(current);
      if (next === undefined) return false;
      try {
        await this.core.replaceNamespacedConfigMap({
          name: target.name,
          namespace: target.namespace,
          body: next,
        });
        this.o.log.info(
          { configMap: `${target.namespace}/${target.name}`, key: target.key },
          'ConfigMap updated',
        );
        return true;
      } catch (err) {
        if (statusCode(err) !== 409 || attempt >= 5) throw err;
        this.o.metrics.reconciles.inc({ result: 'conflict' });
        await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
        current = await this.core.readNamespacedConfigMap({
          name: target.name,
          namespace: target.namespace,
        });
      }
    }
  }

  private async writeCorefile(
    target: ConfigMapTarget,
    informer: ResilientInformer<V1ConfigMap>,
    hosts: readonly string[],
  ): Promise<boolean> {
    const cm = informer.get(target.name, target.namespace);
    const where = `${target.namespace}/${target.name}`;
    if (cm === undefined) {
      this.o.log.warn({ configMap: where }, 'CoreDNS ConfigMap not found: waiting for it');
      this.writes.record(target, 'waiting', 'ConfigMap not found');
      return true;
    }
    const options = {
      target: this.o.config.relayFqdn,
      extraDirectives: this.o.config.extraDirectives,
    };
    try {
      const written = await this.replaceConfigMap(target, cm, (current) => {
        const text = current.data?.[target.key];
        if (text === undefined) {
          throw new HairpinError(ErrorCodes.INPUT, `ConfigMap ${where} has no key ${target.key}`);
        }
        const edited = applyCorefileHosts(text, hosts, options);
        return edited === text
          ? undefined
          : { ...current, data: { ...current.data, [target.key]: edited } };
      });
      this.writes.record(target, written ? 'written' : 'unchanged');
      return true;
    } catch (err) {
      this.writes.record(target, 'failed', err);
      if (err instanceof HairpinError) {
        // Never written back: reported, and retried on the next change.
        this.o.log.error(
          { err, configMap: where, code: err.code },
          'Corefile not edited: it cannot be edited safely',
        );
        this.o.events.warn(
          configMapRef(target, cm.metadata?.uid),
          'CorefileNotEditable',
          `${err.code}: ${err.message}`,
        );
        return false;
      }
      this.o.log.error({ err, configMap: where }, 'ConfigMap update failed');
      return false;
    }
  }

  private async writeImport(
    target: ConfigMapTarget,
    informer: ResilientInformer<V1ConfigMap>,
    hosts: readonly string[],
  ): Promise<boolean> {
    const content = renderCorefileOverride(hosts, { target: this.o.config.relayFqdn });
    const cm = informer.get(target.name, target.namespace);
    try {
      if (cm === undefined) {
        if (content === '') {
          this.writes.record(target, 'unchanged');
          return true;
        }
        await this.core.createNamespacedConfigMap({
          namespace: target.namespace,
          body: {
            metadata: { name: target.name, namespace: target.namespace },
            data: { [target.key]: content },
          },
        });
        this.writes.record(target, 'written');
        return true;
      }
      const written = await this.replaceConfigMap(target, cm, (current) => {
        const data = { ...current.data };
        if ((data[target.key] ?? '') === content) return undefined;
        if (content === '') delete data[target.key];
        else data[target.key] = content;
        return { ...current, data };
      });
      this.writes.record(target, written ? 'written' : 'unchanged');
      return true;
    } catch (err) {
      this.writes.record(target, 'failed', err);
      this.o.log.error(
        { err, configMap: `${target.namespace}/${target.name}` },
        'import ConfigMap update failed',
      );
      return false;
    }
  }

  /** hairpin-hosts: the decided hosts and the relay ClusterIP, for the hosts agents. */
  private async publish(hosts: readonly string[]): Promise<boolean> {
    const { namespace, relayService } = this.o.config;
    const svc = this.services.get(relayService, namespace);
    const ip = svc?.spec?.clusterIP;
    const target = { namespace, name: HOSTS_CONFIGMAP_NAME, key: 'hosts' };
    if (ip === undefined || ip === '' || ip === 'None') {
      this.writes.record(
        target,
        'waiting',
        `Service ${namespace}/${relayService} has no ClusterIP`,
      );
      this.o.log.warn(
        { service: `${namespace}/${relayService}` },
        'relay Service has no ClusterIP yet: hairpin-hosts not published',
      );
      return true;
    }
    const data = encodePublishedHosts({ hosts, relayIP: ip });
    const cm = this.published.get(HOSTS_CONFIGMAP_NAME, namespace);
    try {
      if (cm === undefined) {
        await this.core.createNamespacedConfigMap({
          namespace,
          body: {
            metadata: {
              name: HOSTS_CONFIGMAP_NAME,
              namespace,
              labels: { 'app.kubernetes.io/part-of': 'hairpin' },
            },
            data,
          },
        });
        this.writes.record(target, 'written');
        return true;
      }
      const written = await this.replaceConfigMap(target, cm, (current) =>
        JSON.stringify(current.data ?? {}) === JSON.stringify(data)
          ? undefined
          : { ...current, data },
      );
      this.writes.record(target, written ? 'written' : 'unchanged');
      return true;
    } catch (err) {
      if (statusCode(err) === 409) return true; // created meanwhile: the watch brings it, next reconcile updates it
      this.writes.record(target, 'failed', err);
      this.o.log.error({ err }, 'publishing hairpin-hosts failed');
      return false;
    }
  }
}
