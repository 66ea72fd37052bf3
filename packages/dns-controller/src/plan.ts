// The controller's decisions as one pure function (controller-runtime's Reconcile without
// the client): from the caches' contents to the ConfigMap edits to make, the empty-set
// decision and what to report. No I/O, no clock of its own: unit-tested without a server.
import {
  applyCorefileHosts,
  CorefileParseMemo,
  encodePublishedHosts,
  ErrorCodes,
  HairpinError,
  HOSTS_CONFIGMAP_NAME,
  managedCorefileHosts,
  renderCorefileOverride,
  type CorefileEditOptions,
  type ObjectRef,
} from '@hairpin/shared';
import type { ConfigMapTarget, ControllerConfig } from './config.ts';
import { desiredHosts, type DesiredHosts, type IngressHostsMemo } from './desired-hosts.ts';
import { planWithinCapacity, type PublishedExtras } from './serve-plan.ts';

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
> & {
  readonly confirmEmptyMs: number;
  /** The controller's memo of its last edits (see CorefileEditMemo). */
  readonly editMemo?: CorefileEditMemo;
  /** The controller's memo of each Ingress's hosts (see IngressHostsMemo). */
  readonly hostsMemo?: IngressHostsMemo;
};

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
  /** The hosts written (sorted): all of `hosts`, unless they do not fit (capacity.ts). */
  readonly served: readonly string[];
  /** The hosts left out for capacity, in serving order. */
  readonly notServed: readonly string[];
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

/**
 * The last edit of each target. The edit is a pure function and idempotent, so the same
 * hosts and options applied to the same text, or to the text that edit produced, give the
 * same result: a reconcile that changes nothing (the watch event of our own write) does not
 * edit a Corefile of 20,000 hosts again; and an edit of the text the last one made (the
 * next change) reads it from that edit's own check instead of parsing it again. The
 * controller keeps one; plans without one edit.
 */
export class CorefileEditMemo {
  private readonly last = new Map<
    string,
    {
      options: string;
      hosts: readonly string[];
      text: string;
      edited: string;
      reads: CorefileParseMemo;
    }
  >();

  edit(
    where: string,
    text: string,
    hosts: readonly string[],
    options: CorefileEditOptions,
  ): string {
    const key = JSON.stringify([options.target, options.relayIPs, options.extraDirectives]);
    const seen = this.last.get(where);
    if (
      seen !== undefined &&
      seen.options === key &&
      (text === seen.text || text === seen.edited) &&
      seen.hosts.length === hosts.length &&
      seen.hosts.every((h, i) => h === hosts[i])
    ) {
      return seen.edited;
    }
    const reads = seen?.reads ?? new CorefileParseMemo();
    const edited = applyCorefileHosts(text, hosts, options, reads);
    this.last.set(where, { options: key, hosts, text, edited, reads });
    return edited;
  }

  /** `text` is what the last edit of `where` made (the target as written back). */
  made(where: string, text: string): boolean {
    return this.last.get(where)?.edited === text;
  }
}

/** Edits the Corefile under `key`; a ConfigMap without that key cannot be edited. */
export function corefileEdit(
  t: ConfigMapTarget,
  hosts: readonly string[],
  options: CorefileEditOptions,
  memo?: CorefileEditMemo,
): DataEdit {
  return (data) => {
    const text = data?.[t.key];
    if (text === undefined) {
      throw new HairpinError(
        ErrorCodes.CONFIGMAP_KEY_MISSING,
        `ConfigMap ${t.namespace}/${t.name} has no key ${t.key}`,
      );
    }
    const edited =
      memo === undefined
        ? applyCorefileHosts(text, hosts, options)
        : memo.edit(`${t.namespace}/${t.name}:${t.key}`, text, hosts, options);
    return edited === text ? undefined : { ...data, [t.key]: edited };
  };
}

/**
 * Import mode: the key holds the managed hosts as `template`s (renderCorefileOverride),
 * replacing whatever an earlier version wrote there; no hosts, no key.
 */
export function importEdit(
  key: string,
  hosts: readonly string[],
  options: CorefileEditOptions,
): DataEdit {
  const content = renderCorefileOverride(hosts, options);
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
  return (data) => (sameData(data ?? {}, wanted) ? undefined : wanted);
}

/** The same keys with the same values (compared as they are: no copy of 600 KB values). */
function sameData(a: ConfigMapData, b: ConfigMapData): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

function managedCount(snapshot: Snapshot, config: PlanConfig): number {
  let n = 0;
  // With the relay's address, entries whose markers were stripped count too (as the edit
  // that would remove them recognises them).
  const options = {
    target: config.relayFqdn,
    relayIPs: relayClusterIPs(snapshot, config),
    extraDirectives: config.extraDirectives,
  };
  for (const { target, configMap } of snapshot.corefiles) {
    const text = configMap?.data?.[target.key];
    if (text === undefined) continue;
    try {
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
    | 'sources'
    | 'ingressClasses'
    | 'gatewayClasses'
    | 'clusterDomain'
    | 'allowedSuffixes'
    | 'hostsMemo'
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
    memo: config.hostsMemo,
  });
}

export function planReconcile(snapshot: Snapshot, config: PlanConfig, now: number): ReconcilePlan {
  const decision = decideSnapshot(snapshot, config);
  const empty = decideEmpty(decision.hosts, snapshot, config, now);
  const plan = { ...decision, empty };
  if (empty.kind !== 'trusted') {
    // Nothing is written: no capacity question asked.
    return { ...plan, writes: [], refused: [], waiting: [], served: decision.hosts, notServed: [] };
  }
  // capacity.ts: the hosts that fit in every target, in a documented order.
  return {
    ...plan,
    ...planWithinCapacity(snapshot, decision, (hosts, published) =>
      planWrites(snapshot, config, hosts, published),
    ),
  };
}

/** What the plan writes for `hosts`; `published`: the data of hairpin-hosts besides them. */
type PlanWrites = Pick<ReconcilePlan, 'writes' | 'refused' | 'waiting'>;

function planWrites(
  snapshot: Snapshot,
  config: PlanConfig,
  hosts: readonly string[],
  published: PublishedExtras,
): PlanWrites {
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

  const relayIPs = relayClusterIPs(snapshot, config);
  const ip = relayIPs[0];
  if (ip === undefined) {
    waiting.push(
      `relay Service ${config.namespace}/${config.relayService} has no ClusterIP yet: managed names are not written, hairpin-hosts not published`,
    );
  }
  // Without the relay's address, hosts cannot be written; removing them needs none.
  if (ip !== undefined || hosts.length === 0) {
    const options = {
      target: config.relayFqdn,
      relayIPs,
      extraDirectives: config.extraDirectives,
    };
    for (const state of snapshot.corefiles) {
      consider(state, corefileEdit(state.target, hosts, options, config.editMemo), undefined);
    }
    if (snapshot.importTarget !== undefined) {
      consider(
        snapshot.importTarget,
        importEdit(snapshot.importTarget.target.key, hosts, options),
        {
          labels: {},
        },
      );
    }
  }
  if (ip !== undefined) {
    consider(
      {
        target: { namespace: config.namespace, name: HOSTS_CONFIGMAP_NAME, key: 'hosts' },
        configMap: snapshot.published,
      },
      replaceEdit(encodePublishedHosts({ ...published, hosts, relayIP: ip })),
      { labels: { 'app.kubernetes.io/part-of': 'hairpin' } },
    );
  }
  return { writes, refused, waiting };
}

interface CachedService {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: { readonly clusterIP?: string; readonly clusterIPs?: readonly string[] };
}

/** The relay Service's ClusterIPs (dual-stack: one per family); none while it has none. */
export function relayClusterIPs(
  snapshot: Pick<Snapshot, 'services'>,
  config: Pick<PlanConfig, 'namespace' | 'relayService'>,
): string[] {
  const relay = snapshot.services.find(
    (s) =>
      (s as CachedService).metadata?.name === config.relayService &&
      (s as CachedService).metadata?.namespace === config.namespace,
  ) as CachedService | undefined;
  const spec = relay?.spec;
  const ips = spec?.clusterIPs ?? (spec?.clusterIP === undefined ? [] : [spec.clusterIP]);
  return ips.filter((ip) => ip !== '' && ip !== 'None');
}
