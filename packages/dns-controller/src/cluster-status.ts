// `hairpin-dns-controller status`, the pure half: from what the API server holds (the
// published hairpin-hosts ConfigMap, the target Corefiles, the HostnameRefused Events,
// the Lease) to a report, and that report as a table a human can paste into a bug report.
import {
  decodePublishedHosts,
  HairpinError,
  HOSTS_CONFIGMAP_NAME,
  HOSTS_KEY,
  corefileReloads,
  managedCorefileHosts,
  type PublishedHosts,
} from '@hairpin/shared';
import type { V1LeaseSpec } from '@kubernetes/client-node';
import type { ConfigMapTarget, ControllerConfig } from './config.ts';
import { HOSTNAME_REFUSED, HOSTNAME_REFUSED_PREFIX } from './constants.ts';
import { liveHolder } from './lease-holder.ts';
import { NOT_SERVED_MESSAGE, type SourceObject } from './status.ts';

/** What was read, as the API returned it; undefined: not found. */
export interface ClusterObservation {
  readonly targets: readonly {
    readonly target: ConfigMapTarget;
    readonly role: 'corefile' | 'import';
    readonly configMap: ConfigMapLike | undefined;
  }[];
  readonly published: ConfigMapLike | undefined;
  readonly events: readonly EventLike[];
  readonly lease: LeaseLike | undefined;
}

export interface ConfigMapLike {
  readonly metadata?: { readonly managedFields?: readonly { readonly time?: Date | string }[] };
  readonly data?: Readonly<Record<string, string>>;
}

export interface EventLike {
  readonly reason?: string;
  readonly message?: string;
  readonly count?: number;
  readonly involvedObject?: {
    readonly kind?: string;
    readonly namespace?: string;
    readonly name?: string;
  };
  readonly lastTimestamp?: Date | string;
  readonly eventTime?: Date | string;
  readonly metadata?: { readonly creationTimestamp?: Date | string };
}

export interface LeaseLike {
  readonly spec?: {
    readonly holderIdentity?: string;
    /** MicroTime: client-node hands over the server's string. */
    readonly renewTime?: Date | string;
    readonly leaseDurationSeconds?: number;
  };
}

export interface ClusterHost {
  /** As the ConfigMaps hold it; for a refusal, as the Event quotes it ('' when it does not). */
  readonly host: string;
  /**
   * managed: a rule or a published line exists; not_served: hairpin-hosts lists it as left
   * out because DNS is full (`reason: capacity`); rejected: a HostnameRefused Event.
   */
  readonly state: 'managed' | 'not_served' | 'rejected';
  /** managed: the ConfigMap keys that hold it, and the readable ones that do not. */
  readonly in?: readonly string[];
  readonly missingFrom?: readonly string[];
  readonly reason?: string;
  readonly message?: string;
  readonly sources: readonly SourceObject[];
  readonly lastSeen?: string | null;
}

export interface ClusterConfigMap {
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
  readonly role: 'corefile' | 'import' | 'published';
  /**
   * ok; incomplete (readable, but lacks hosts another key holds: `missing` of them);
   * not-found (ConfigMap or key); unreadable (does not parse, bad content).
   */
  readonly state: 'ok' | 'incomplete' | 'not-found' | 'unreadable';
  readonly hosts: number;
  readonly missing?: number;
  readonly error?: string;
  /** A Corefile without the `reload` plugin: CoreDNS applies edits only when it restarts. */
  readonly withoutReload?: true;
  /** The latest managedFields time: when anyone last wrote it. */
  readonly lastChange: string | null;
}

export interface ClusterLeader {
  /** The Lease's namespace/name; found: false when it does not exist (no controller ran). */
  readonly lease: string;
  readonly found: boolean;
  readonly holder: string | null;
  readonly renewTime: string | null;
  readonly renewedSecondsAgo: number | null;
  /** Held and renewed within its duration: a controller is leading. */
  readonly fresh: boolean;
}

export interface ClusterStatus {
  readonly namespace: string;
  readonly generatedAt: string;
  readonly leader: ClusterLeader;
  /**
   * The leader's /status (every host with its objects, skipped and class-filtered ones
   * too) through the API server's pod proxy: `kubectl get --raw <this>`. null: no holder.
   */
  readonly controllerStatusPath: string | null;
  readonly hosts: readonly ClusterHost[];
  readonly configMaps: readonly ClusterConfigMap[];
  /** Hosts the controller left out because DNS is full (all of them; `hosts` lists those published). */
  readonly notServed: number;
}

function iso(t: Date | string | undefined): string | null {
  if (t === undefined) return null;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function where(t: { namespace: string; name: string; key: string }): string {
  return `${t.namespace}/${t.name}:${t.key}`;
}

function lastChange(cm: ConfigMapLike): string | null {
  const times = (cm.metadata?.managedFields ?? [])
    .map((f) => iso(f.time))
    .filter((t): t is string => t !== null)
    .sort();
  return times.at(-1) ?? null;
}

function errorText(err: unknown): string {
  return err instanceof HairpinError ? `${err.code}: ${err.message}` : String(err);
}

/**
 * The managed hosts a target ConfigMap key holds, found by the Corefile model (an import key
 * holds directives that CoreDNS imports into the root block: read it as such).
 */
function targetHosts(
  role: 'corefile' | 'import',
  text: string,
  config: ControllerConfig,
): string[] {
  return managedCorefileHosts(role === 'import' ? `.:53 {\n${text}\n}\n` : text, {
    target: config.relayFqdn,
    extraDirectives: config.extraDirectives,
  });
}

export function buildClusterStatus(
  config: ControllerConfig,
  seen: ClusterObservation,
  now: Date,
): ClusterStatus {
  const configMaps: ClusterConfigMap[] = [];
  const holders = new Map<string, string[]>();
  const readable: string[] = [];
  const found = (key: string, hosts: readonly string[]): void => {
    readable.push(key);
    for (const h of hosts) holders.set(h, [...(holders.get(h) ?? []), key]);
  };

  const published = { namespace: config.namespace, name: HOSTS_CONFIGMAP_NAME, key: HOSTS_KEY };
  let notServed: Pick<PublishedHosts, 'notServed' | 'notServedCount'> = {};
  const entry = (
    t: { namespace: string; name: string; key: string },
    role: ClusterConfigMap['role'],
    cm: ConfigMapLike | undefined,
    read: (text: string) => string[],
  ): void => {
    const base = { namespace: t.namespace, name: t.name, key: t.key, role };
    const text = cm?.data?.[t.key];
    if (cm === undefined || text === undefined) {
      configMaps.push({
        ...base,
        state: 'not-found',
        hosts: 0,
        error: cm === undefined ? 'no such ConfigMap' : `no key ${t.key}`,
        lastChange: cm === undefined ? null : lastChange(cm),
      });
      return;
    }
    try {
      const hosts = read(text);
      found(where(t), hosts);
      const noReload = role === 'corefile' && corefileReloads(text, config) === 'no';
      configMaps.push({
        ...base,
        state: 'ok',
        hosts: hosts.length,
        lastChange: lastChange(cm),
        ...(noReload ? { withoutReload: true as const } : {}),
      });
    } catch (err) {
      configMaps.push({
        ...base,
        state: 'unreadable',
        hosts: 0,
        error: errorText(err),
        lastChange: lastChange(cm),
      });
    }
  };
  entry(published, 'published', seen.published, () => {
    const decoded = decodePublishedHosts(seen.published?.data, {
      clusterDomain: config.clusterDomain,
      allowedSuffixes: [],
    });
    if (!decoded.ok) throw new Error(decoded.error);
    notServed = decoded.value;
    return [...decoded.value.hosts];
  });
  for (const { target, role, configMap } of seen.targets) {
    entry(target, role, configMap, (text) => targetHosts(role, text, config));
  }

  const managed: ClusterHost[] = [...holders.keys()].sort().map((host) => {
    const keys = holders.get(host)!;
    return {
      host,
      state: 'managed',
      in: keys,
      missingFrom: readable.filter((k) => !keys.includes(k)),
      sources: [],
    };
  });
  // A readable key that lacks hosts another holds is incomplete, not ok.
  const table = configMaps.map((c): ClusterConfigMap => {
    if (c.state !== 'ok') return c;
    const key = where(c);
    const missing = managed.filter((h) => h.missingFrom?.includes(key) === true).length;
    return missing === 0 ? c : { ...c, state: 'incomplete', missing };
  });
  const leftOut: ClusterHost[] = (notServed.notServed ?? []).map((host) => ({
    host,
    state: 'not_served',
    reason: 'capacity',
    message: NOT_SERVED_MESSAGE,
    sources: [],
  }));
  const leader = leaderOf(`${config.namespace}/${config.leaseName}`, seen.lease, now);
  return {
    namespace: config.namespace,
    generatedAt: now.toISOString(),
    leader,
    controllerStatusPath:
      leader.holder === null
        ? null
        : `/api/v1/namespaces/${config.namespace}/pods/${encodeURIComponent(leader.holder)}:${config.admin.port}/proxy/status`,
    hosts: [...managed, ...leftOut, ...refusals(seen.events)],
    configMaps: table,
    notServed: notServed.notServedCount ?? leftOut.length,
  };
}

function leaderOf(name: string, lease: LeaseLike | undefined, now: Date): ClusterLeader {
  const holder = lease?.spec?.holderIdentity ?? '';
  const renewTime = iso(lease?.spec?.renewTime);
  const ago = renewTime === null ? null : (now.getTime() - Date.parse(renewTime)) / 1000;
  return {
    lease: name,
    found: lease !== undefined,
    holder: holder === '' ? null : holder,
    renewTime,
    renewedSecondsAgo: ago === null ? null : Math.round(ago * 10) / 10,
    fresh: liveHolder(lease?.spec as V1LeaseSpec | undefined, now.getTime()) !== undefined,
  };
}

/** One row per object and message: the latest time, repeats folded. */
function refusals(events: readonly EventLike[]): ClusterHost[] {
  const rows = new Map<string, ClusterHost>();
  for (const e of events) {
    if (e.reason !== HOSTNAME_REFUSED) continue;
    const o = e.involvedObject ?? {};
    const source = { kind: o.kind ?? '', namespace: o.namespace ?? '', name: o.name ?? '' };
    const message = (e.message ?? '').startsWith(HOSTNAME_REFUSED_PREFIX)
      ? (e.message ?? '').slice(HOSTNAME_REFUSED_PREFIX.length)
      : (e.message ?? '');
    const at = iso(e.lastTimestamp) ?? iso(e.eventTime) ?? iso(e.metadata?.creationTimestamp);
    const key = `${source.kind}/${source.namespace}/${source.name}\n${message}`;
    const before = rows.get(key);
    if (before !== undefined && (before.lastSeen ?? '') >= (at ?? '')) continue;
    rows.set(key, {
      // The policy's messages quote the refused name first (JSON-escaped).
      host: /^"((?:[^"\\]|\\.)*)"/.exec(message)?.[1] ?? '',
      state: 'rejected',
      reason: HOSTNAME_REFUSED,
      message,
      sources: [source],
      lastSeen: at,
    });
  }
  return [...rows.values()].sort(
    (a, b) => a.host.localeCompare(b.host) || (a.message ?? '').localeCompare(b.message ?? ''),
  );
}

// --- the table ------------------------------------------------------------------------

/** Anything outside printable ASCII escaped: Event text and names are tenant input. */
function safe(text: string): string {
  return text.replace(/[^\x20-\x7e]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [header, ...rows].map((r) => r.map(safe));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function ago(seconds: number): string {
  if (seconds < 0) return 'in the future';
  if (seconds < 120) return `${Math.round(seconds)}s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h ago`;
  return `${Math.round(seconds / 86_400)}d ago`;
}

function short(key: string, namespace: string): string {
  return key === `${namespace}/${HOSTS_CONFIGMAP_NAME}:${HOSTS_KEY}` ? HOSTS_CONFIGMAP_NAME : key;
}

export function formatClusterStatus(s: ClusterStatus): string {
  const now = Date.parse(s.generatedAt);
  const since = (t: string | null | undefined): string =>
    t === null || t === undefined ? '-' : ago((now - Date.parse(t)) / 1000);
  const out: string[] = [`hairpin status: namespace ${s.namespace}, ${s.generatedAt}`];
  const l = s.leader;
  out.push(
    !l.found
      ? `leader: none (no Lease ${l.lease}: has the dns-controller run in this namespace?)`
      : l.fresh
        ? `leader: ${l.holder} (Lease ${l.lease} renewed ${since(l.renewTime)})`
        : `leader: none (Lease ${l.lease} ${
            l.holder === null ? 'released' : `held by ${l.holder}`
          }, renewed ${since(l.renewTime)}: expired)`,
  );
  out.push('');
  if (s.notServed > 0) {
    const listed = s.hosts.filter((h) => h.state === 'not_served').length;
    out.push(
      `DNS is full: ${s.notServed} hosts not served (capacity)${
        listed < s.notServed
          ? `, ${listed} listed below; all of them in the controller's /status`
          : ''
      }`,
      '',
    );
  }
  if (s.hosts.length === 0) out.push('no hosts: no managed rule, no refused hostname');
  else {
    out.push(
      table(
        ['HOST', 'STATE', 'OBJECT', 'WHERE / WHY'],
        s.hosts.map((h) => [
          h.host === '' ? '-' : h.host,
          h.state,
          h.sources
            .map((o) => `${o.kind} ${o.namespace}/${o.name}`)
            .concat(h.lastSeen === undefined ? [] : [`(${since(h.lastSeen)})`])
            .join(' ') || '-',
          h.state === 'managed'
            ? [
                (h.in ?? []).map((k) => short(k, s.namespace)).join(', '),
                ...((h.missingFrom ?? []).length > 0
                  ? [`MISSING from ${h.missingFrom!.map((k) => short(k, s.namespace)).join(', ')}`]
                  : []),
              ].join('; ')
            : (h.message ?? ''),
        ]),
      ),
    );
  }
  out.push('');
  out.push(
    table(
      ['CONFIGMAP', 'KEY', 'ROLE', 'HOSTS', 'LAST CHANGE', 'STATE'],
      s.configMaps.map((c) => [
        `${c.namespace}/${c.name}`,
        c.key,
        c.role,
        String(c.hosts),
        since(c.lastChange),
        (c.state === 'incomplete'
          ? `incomplete: ${c.missing} hosts missing`
          : c.error === undefined
            ? c.state
            : `${c.state}: ${c.error}`) +
          (c.withoutReload === true
            ? ' (no reload plugin: edits apply when CoreDNS restarts)'
            : ''),
      ]),
    ),
  );
  if (s.controllerStatusPath !== null) {
    out.push(
      '',
      "Each host's objects, and the hosts skipped (ipMode: Proxy) or left out by class, are in the controller's /status:",
      `  kubectl get --raw ${s.controllerStatusPath}`,
    );
  }
  return `${out.join('\n')}\n`;
}
