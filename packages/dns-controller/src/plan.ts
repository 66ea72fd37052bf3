// The controller's decisions as one pure function (controller-runtime's Reconcile without
// the client): from the caches' contents to the ConfigMap edits to make, the empty-set
// decision and what to report. No I/O, no clock of its own: unit-tested without a server.
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
import type { ConfigMapTarget, ControllerConfig } from './config.ts';
import { desiredHosts, type DesiredHosts } from './desired-hosts.ts';

export type ConfigMapData = Readonly<Record<string, string>>;

/** The few fields of a cached ConfigMap the plan reads. */
export interface CachedConfigMap {
  readonly metadata?: { readonly uid?: string; readonly resourceVersion?: string };
  readonly data?: ConfigMapData;
}

export interface TargetState {
  readonly target: ConfigMapTarget;
  readonly configMap: CachedConfigMap | undefined;
}

export interface Snapshot {
  readonly ingresses: readonly unknown[];
  readonly gateways: readonly unknown[];
  readonly routes: readonly unknown[];
  readonly services: readonly unknown[];
  readonly corefiles: readonly TargetState[];
  readonly importTarget: TargetState | undefined;
  readonly published: CachedConfigMap | undefined;
  /** No watch error on Ingresses since their last successful list or event. */
  readonly ingressWatchHealthy: boolean;
  /** Hosts written by the last successful reconcile (undefined: none yet). */
  readonly lastHosts: readonly string[] | undefined;
  /** When an empty host set was first seen while rules existed (undefined: not now). */
  readonly emptySince: number | undefined;
}

export type PlanConfig = Pick<
  ControllerConfig,
  | 'sources'
  | 'ingressClasses'
  | 'gatewayClasses'
  | 'clusterDomain'
  | 'allowedSuffixes'
  | 'relayFqdn'
  | 'extraDirectives'
  | 'namespace'
  | 'relayService'
> & { readonly confirmEmptyMs: number };

/** New data computed from the current data; undefined: nothing to change. */
export type DataEdit = (data: ConfigMapData | undefined) => Record<string, string> | undefined;

export interface ConfigMapWrite {
  readonly target: ConfigMapTarget;
  readonly ref: ObjectRef;
  /** The cached ConfigMap the write starts from (undefined: absent, to be created). */
  readonly current: CachedConfigMap | undefined;
  /** What the write should contain, computed from the cached ConfigMap. */
  readonly data: Record<string, string>;
  /** Re-applied to a fresh read after a 409. Throws a HairpinError if it cannot edit safely. */
  readonly edit: DataEdit;
  /** Create the ConfigMap if it is absent (with these labels); undefined: never create. */
  readonly create: { readonly labels: Readonly<Record<string, string>> } | undefined;
}

export type EmptyDecision =
  /** Hosts to write, or none and none written before: act on the plan. */
  | { readonly kind: 'trusted' }
  /** No hosts while rules exist, and the Ingress watch is failing: keep the rules. */
  | { readonly kind: 'unhealthy-watch'; readonly managed: number }
  /** No hosts while rules exist: confirm after waitMs before removing every rule. */
  | {
      readonly kind: 'confirming';
      readonly managed: number;
      readonly since: number;
      readonly waitMs: number;
    };

/** The host decision (hosts, rejections, ipMode Proxy skips), and what to do with it. */
export interface ReconcilePlan extends DesiredHosts {
  readonly empty: EmptyDecision;
  /** Only the ConfigMaps whose content changes; none unless `empty` is trusted. */
  readonly writes: readonly ConfigMapWrite[];
  /** Targets whose cached content cannot be edited safely: never written, reported. */
  readonly refused: readonly {
    readonly target: ConfigMapTarget;
    readonly ref: ObjectRef;
    /** The resourceVersion refused: reported once per version. */
    readonly version: string | undefined;
    readonly error: HairpinError;
  }[];
  /** What is not there yet (a missing CoreDNS ConfigMap, a relay without a ClusterIP). */
  readonly waiting: readonly string[];
}

export function configMapRef(t: ConfigMapTarget, uid?: string): ObjectRef {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    namespace: t.namespace,
    name: t.name,
    ...(uid === undefined ? {} : { uid }),
  };
}

/** Edits the Corefile under `key`; a ConfigMap without that key cannot be edited. */
export function corefileEdit(
  t: ConfigMapTarget,
  hosts: readonly string[],
  options: { readonly target: string; readonly extraDirectives: readonly string[] },
): DataEdit {
  return (data) => {
    const text = data?.[t.key];
    if (text === undefined) {
      throw new HairpinError(
        ErrorCodes.CONFIGMAP_KEY_MISSING,
        `ConfigMap ${t.namespace}/${t.name} has no key ${t.key}`,
      );
    }
    const edited = applyCorefileHosts(text, hosts, options);
    return edited === text ? undefined : { ...data, [t.key]: edited };
  };
}

/** Import mode: the key holds the managed lines alone; no hosts, no key. */
export function importEdit(key: string, content: string): DataEdit {
  return (data) => {
    if ((data?.[key] ?? '') === content) return undefined;
    const next = { ...data };
    if (content === '') delete next[key];
    else next[key] = content;
    return next;
  };
}

/** hairpin-hosts: the whole data, replaced. */
export function replaceEdit(wanted: Record<string, string>): DataEdit {
  return (data) => (JSON.stringify(data ?? {}) === JSON.stringify(wanted) ? undefined : wanted);
}

function managedCount(snapshot: Snapshot, config: PlanConfig): number {
  let n = 0;
  for (const { target, configMap } of snapshot.corefiles) {
    const text = configMap?.data?.[target.key];
    if (text === undefined) continue;
    try {
      const options = { target: config.relayFqdn, extraDirectives: config.extraDirectives };
      n = Math.max(n, managedCorefileHosts(text, options).length);
    } catch {
      // An unparseable Corefile is reported when the plan edits it.
    }
  }
  return n;
}

/**
 * A sudden drop to zero hosts is not trusted at once: it is acted on only while the
 * Ingress watch is healthy and after it has persisted for confirmEmptyMs.
 */
function decideEmpty(
  hosts: readonly string[],
  snapshot: Snapshot,
  config: PlanConfig,
  now: number,
): EmptyDecision {
  const managed = snapshot.lastHosts?.length ?? managedCount(snapshot, config);
  if (hosts.length > 0 || managed === 0) return { kind: 'trusted' };
  if (!snapshot.ingressWatchHealthy) return { kind: 'unhealthy-watch', managed };
  const since = snapshot.emptySince ?? now;
  if (now - since >= config.confirmEmptyMs) return { kind: 'trusted' };
  // 10 ms past the deadline, so the run it schedules finds the wait over.
  return { kind: 'confirming', managed, since, waitMs: config.confirmEmptyMs - (now - since) + 10 };
}

/** Which hosts, from the objects in the snapshot: the plan's decision, and /status's. */
export function decideSnapshot(
  snapshot: Pick<Snapshot, 'ingresses' | 'gateways' | 'routes' | 'services'>,
  config: Pick<
    PlanConfig,
    'sources' | 'ingressClasses' | 'gatewayClasses' | 'clusterDomain' | 'allowedSuffixes'
  >,
): DesiredHosts {
  return desiredHosts({
    ingresses: snapshot.ingresses,
    gateways: snapshot.gateways,
    routes: snapshot.routes,
    services: snapshot.services,
    filter: {
      ingressSources: config.sources,
      ingressClasses: config.ingressClasses,
      gatewayClasses: config.gatewayClasses,
    },
    policy: { clusterDomain: config.clusterDomain, allowedSuffixes: config.allowedSuffixes },
  });
}

export function planReconcile(snapshot: Snapshot, config: PlanConfig, now: number): ReconcilePlan {
  const decision = decideSnapshot(snapshot, config);
  const { hosts } = decision;
  const empty = decideEmpty(hosts, snapshot, config, now);
  const plan = { ...decision, empty };
  if (empty.kind !== 'trusted') return { ...plan, writes: [], refused: [], waiting: [] };

  const writes: ConfigMapWrite[] = [];
  const refused: ReconcilePlan['refused'][number][] = [];
  const waiting: string[] = [];
  const consider = (state: TargetState, edit: DataEdit, create: ConfigMapWrite['create']) => {
    const { target, configMap } = state;
    const ref = configMapRef(target, configMap?.metadata?.uid);
    if (configMap === undefined && create === undefined) {
      waiting.push(`ConfigMap ${target.namespace}/${target.name} not found: waiting for it`);
      return;
    }
    try {
      const data = edit(configMap?.data);
      if (data !== undefined) writes.push({ target, ref, current: configMap, data, edit, create });
    } catch (err) {
      if (!(err instanceof HairpinError)) throw err;
      refused.push({ target, ref, version: configMap?.metadata?.resourceVersion, error: err });
    }
  };

  const options = { target: config.relayFqdn, extraDirectives: config.extraDirectives };
  for (const state of snapshot.corefiles) {
    consider(state, corefileEdit(state.target, hosts, options), undefined);
  }
  if (snapshot.importTarget !== undefined) {
    const content = renderCorefileOverride(hosts, { target: config.relayFqdn });
    consider(snapshot.importTarget, importEdit(snapshot.importTarget.target.key, content), {
      labels: {},
    });
  }
  const relay = snapshot.services.find(
    (s) =>
      (s as CachedService).metadata?.name === config.relayService &&
      (s as CachedService).metadata?.namespace === config.namespace,
  ) as CachedService | undefined;
  const ip = relay?.spec?.clusterIP;
  if (ip === undefined || ip === '' || ip === 'None') {
    waiting.push(
      `relay Service ${config.namespace}/${config.relayService} has no ClusterIP yet: hairpin-hosts not published`,
    );
  } else {
    consider(
      {
        target: { namespace: config.namespace, name: HOSTS_CONFIGMAP_NAME, key: 'hosts' },
        configMap: snapshot.published,
      },
      replaceEdit(encodePublishedHosts({ hosts, relayIP: ip })),
      { labels: { 'app.kubernetes.io/part-of': 'hairpin' } },
    );
  }
  return { ...plan, writes, refused, waiting };
}

interface CachedService {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: { readonly clusterIP?: string };
}
