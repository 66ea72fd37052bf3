// What the controller watches (STYLE.md §2: watch, never poll): Ingresses, Services, each
// target ConfigMap by name, `hairpin-hosts`, and the Gateway API once its CRDs are served
// (looked for at start and every discovery interval). Every change calls onChange; the
// reconcile reads them all at once through snapshot().
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
import { HOSTS_CONFIGMAP_NAME } from '@hairpin/shared';
import { ResilientInformer, type ListResult } from '@hairpin/shared/kube';
import { isNotFound, type Logger } from '@hairpin/shared/runtime';
import type { ConfigMapTarget, ControllerConfig } from './config.ts';
import {
  projectGateway,
  projectIngress,
  projectRoute,
  projectService,
} from './cache-projection.ts';
import { INFORMER_BACKOFF, LIST_PAGE_SIZE } from './constants.ts';
import type { Snapshot } from './plan.ts';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

type Informer<T extends KubernetesObject> = ResilientInformer<T>;

export class ControllerCaches {
  private readonly kubeConfig: KubeConfig;
  private readonly config: ControllerConfig;
  private readonly log: Logger;
  private readonly onChange: () => void;
  private readonly custom: CustomObjectsApi;
  private readonly ingresses: Informer<V1Ingress>;
  private readonly services: Informer<V1Service>;
  private readonly targets = new Map<ConfigMapTarget, Informer<V1ConfigMap>>();
  private readonly published: Informer<V1ConfigMap>;
  private gateways: Informer<KubernetesObject> | undefined;
  private routes: Informer<KubernetesObject> | undefined;
  private discoveryTimer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(options: {
    kubeConfig: KubeConfig;
    config: ControllerConfig;
    log: Logger;
    onChange: () => void;
  }) {
    const { kubeConfig: kc, config } = options;
    this.kubeConfig = kc;
    this.config = config;
    this.log = options.log;
    this.onChange = options.onChange;
    const core = kc.makeApiClient(CoreV1Api);
    const networking = kc.makeApiClient(NetworkingV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.ingresses = this.projected(
      'ingresses',
      '/apis/networking.k8s.io/v1/ingresses',
      (page) => networking.listIngressForAllNamespaces(page),
      projectIngress,
    );
    this.services = this.projected(
      'services',
      '/api/v1/services',
      (page) => core.listServiceForAllNamespaces(page),
      projectService,
    );
    const configMap = (namespace: string, name: string) => {
      const fieldSelector = `metadata.name=${name}`;
      return this.informer<V1ConfigMap>(
        `configmap ${namespace}/${name}`,
        `/api/v1/namespaces/${namespace}/configmaps`,
        () => core.listNamespacedConfigMap({ namespace, fieldSelector }),
        fieldSelector,
      );
    };
    for (const t of [...config.corefiles, ...(config.importTarget ? [config.importTarget] : [])]) {
      this.targets.set(t, configMap(t.namespace, t.name));
    }
    this.published = configMap(config.namespace, HOSTS_CONFIGMAP_NAME);
  }

  /** A cluster-wide informer listed in pages, keeping only `project` of each object. */
  private projected<T extends KubernetesObject>(
    name: string,
    path: string,
    listPage: PageLister<T>,
    project: (object: T) => T,
  ): Informer<T> {
    return this.informer(name, path, paged(listPage, project), undefined, project);
  }

  private informer<T extends KubernetesObject>(
    name: string,
    path: string,
    list: () => Promise<ListResult<T>>,
    fieldSelector?: string,
    transform?: (object: T) => T,
  ): Informer<T> {
    return new ResilientInformer<T>({
      name,
      path,
      list,
      kubeConfig: this.kubeConfig,
      log: this.log,
      onChange: this.onChange,
      onSynced: this.onChange,
      minBackoffMs: INFORMER_BACKOFF.minMs,
      maxBackoffMs: INFORMER_BACKOFF.maxMs,
      ...(fieldSelector === undefined ? {} : { fieldSelector }),
      ...(transform === undefined ? {} : { transform }),
    });
  }

  private get all(): Informer<KubernetesObject>[] {
    return [
      this.ingresses,
      this.services,
      this.published,
      ...this.targets.values(),
      ...(this.gateways ? [this.gateways] : []),
      ...(this.routes ? [this.routes] : []),
    ] as Informer<KubernetesObject>[];
  }

  start(): void {
    this.stopped = false;
    for (const i of this.all) i.start();
    if (this.config.gatewayApi === 'auto') void this.discoverGatewayApi();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.discoveryTimer);
    for (const i of this.all) i.stop();
  }

  /** Every cache has been listed once. */
  get synced(): boolean {
    return this.all.every((i) => i.synced);
  }

  get gatewayApiFound(): boolean {
    return this.gateways !== undefined;
  }

  snapshot(state: Pick<Snapshot, 'lastHosts' | 'emptySince'>): Snapshot {
    const target = (t: ConfigMapTarget) => ({
      target: t,
      configMap: this.targets.get(t)?.get(t.name, t.namespace),
    });
    const imp = this.config.importTarget;
    return {
      ...state,
      ingresses: this.ingresses.list(),
      gateways: this.gateways?.list() ?? [],
      routes: this.routes?.list() ?? [],
      services: this.services.list(),
      corefiles: this.config.corefiles.map(target),
      importTarget: imp === undefined ? undefined : target(imp),
      published: this.published.get(HOSTS_CONFIGMAP_NAME, this.config.namespace),
      ingressWatchHealthy: this.ingresses.healthy,
    };
  }

  /** Gateway API: watched once its CRDs are served; looked for at start and periodically. */
  private async discoverGatewayApi(): Promise<void> {
    if (this.stopped || this.gateways !== undefined) return;
    const list = (plural: string, page: { limit?: number; _continue?: string }) =>
      this.custom.listClusterCustomObject({
        group: GATEWAY_GROUP,
        version: 'v1',
        plural,
        ...page,
      }) as Promise<ListResult<KubernetesObject>>;
    try {
      await list('gateways', { limit: 1 });
      const make = (plural: string, project: (o: KubernetesObject) => KubernetesObject) =>
        this.projected(
          plural,
          `/apis/${GATEWAY_GROUP}/v1/${plural}`,
          (page) => list(plural, page),
          project,
        );
      this.gateways = make('gateways', projectGateway);
      this.routes = make('httproutes', projectRoute);
      this.gateways.start();
      this.routes.start();
      this.log.info('Gateway API found: watching Gateways and HTTPRoutes');
      return;
    } catch (err) {
      if (!isNotFound(err)) this.log.warn({ err }, 'Gateway API discovery failed');
    }
    this.discoveryTimer = setTimeout(
      () => void this.discoverGatewayApi(),
      this.config.discoveryIntervalMs,
    );
    this.discoveryTimer.unref();
  }
}

/** One page of a list (limit/continue). */
type PageLister<T> = (page: { limit: number; _continue?: string }) => Promise<{
  items: T[];
  metadata?: { resourceVersion?: string; _continue?: string } | undefined;
}>;

/**
 * A list in pages of LIST_PAGE_SIZE (limit/continue, one consistent snapshot), so that the
 * first list at 20,000 hosts never holds the whole response and its parse at once: each
 * page is projected before the next is read (the informer applies `project` to watch
 * events only: listed items are not projected twice).
 */
function paged<T>(listPage: PageLister<T>, project: (item: T) => T): () => Promise<ListResult<T>> {
  return async () => {
    const items: T[] = [];
    let resourceVersion: string | undefined;
    let next: string | undefined;
    do {
      const page = await listPage({
        limit: LIST_PAGE_SIZE,
        ...(next === undefined ? {} : { _continue: next }),
      });
      for (const item of page.items) items.push(project(item));
      resourceVersion ??= page.metadata?.resourceVersion;
      next = page.metadata?._continue || undefined;
    } while (next !== undefined);
    return { items, metadata: { ...(resourceVersion === undefined ? {} : { resourceVersion }) } };
  };
}
