// Pure extraction of candidate hostnames from Kubernetes objects (plain JSON as the API
// returns it: client-node objects or parsed YAML both work). Objects are tenant input:
// every field is checked for its type, and a malformed object contributes nothing
// rather than throw.
import { checkHostname, type HostnamePolicy, type HostRejectReason } from './hostname.ts';

export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export type IngressHostSource = 'tls' | 'rules';

export interface SourceFilter {
  /** Which Ingress fields contribute hosts; default both. */
  readonly ingressSources: readonly IngressHostSource[];
  /** Ingress classes to include (spec.ingressClassName or the legacy annotation); empty = all. */
  readonly ingressClasses: readonly string[];
  /** Gateway classes to include (Gateway spec.gatewayClassName); empty = all. */
  readonly gatewayClasses: readonly string[];
}

export const DEFAULT_SOURCE_FILTER: SourceFilter = Object.freeze({
  ingressSources: Object.freeze(['tls', 'rules'] as const),
  ingressClasses: Object.freeze([]),
  gatewayClasses: Object.freeze([]),
});

export interface HostCandidate {
  /**
   * The raw value as found on the object, not yet validated: tenant input, which may not
   * even be a string (`host: [a.com]` in YAML); checkHostname refuses that as not-a-string.
   */
  readonly host: unknown;
  readonly ref: ObjectRef;
}

export interface HostRejection {
  /** The refused value, printable: a non-string as JSON, bounded. */
  readonly host: string;
  readonly reason: HostRejectReason;
  readonly message: string;
  readonly ref: ObjectRef;
}

/** A host as text (normalised, or described if refused or filtered) and its object. */
export interface SourcedHost {
  readonly host: string;
  readonly ref: ObjectRef;
}

export interface HostDecision {
  /** Valid, allowed, lower-cased, unique, sorted. */
  readonly hosts: readonly string[];
  /** Each accepted candidate as its normalised host, with its object (the hosts' sources). */
  readonly accepted: readonly SourcedHost[];
  readonly rejected: readonly HostRejection[];
}

type Obj = Record<string, unknown>;

function obj(value: unknown): Obj | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Obj)
    : undefined;
}

function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A field that is absent or null (a YAML `host:` with no value) holds no host. */
function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** A refused value as text for logs, Events and status: strings as they are, others as JSON. */
function describeValue(value: unknown): string {
  if (typeof value === 'string') return value;
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

export function refOf(object: unknown, apiVersion: string, kind: string): ObjectRef | undefined {
  const meta = obj(obj(object)?.['metadata']);
  const name = str(meta?.['name']);
  if (name === undefined) return undefined;
  const uid = str(meta?.['uid']);
  return {
    apiVersion: str(obj(object)?.['apiVersion']) ?? apiVersion,
    kind,
    namespace: str(meta?.['namespace']) ?? '',
    name,
    ...(uid === undefined ? {} : { uid }),
  };
}

/** spec.ingressClassName, else the legacy `kubernetes.io/ingress.class` annotation. */
export function ingressClassOf(ingress: unknown): string | undefined {
  const o = obj(ingress);
  return (
    str(obj(o?.['spec'])?.['ingressClassName']) ??
    str(obj(obj(o?.['metadata'])?.['annotations'])?.['kubernetes.io/ingress.class'])
  );
}

/**
 * Host candidates of a networking.k8s.io/v1 Ingress: spec.tls[].hosts[] and
 * spec.rules[].host, as the filter selects. With a class filter, an Ingress without a
 * class is left out (it may belong to any controller).
 */
export function hostsFromIngress(ingress: unknown, filter: SourceFilter): HostCandidate[] {
  const ref = refOf(ingress, 'networking.k8s.io/v1', 'Ingress');
  if (ref === undefined) return [];
  if (filter.ingressClasses.length > 0) {
    const cls = ingressClassOf(ingress);
    if (cls === undefined || !filter.ingressClasses.includes(cls)) return [];
  }
  const spec = obj(obj(ingress)?.['spec']);
  const raw: unknown[] = [];
  if (filter.ingressSources.includes('tls')) {
    for (const tls of arr(spec?.['tls'])) raw.push(...arr(obj(tls)?.['hosts']));
  }
  if (filter.ingressSources.includes('rules')) {
    for (const rule of arr(spec?.['rules'])) {
      const host = obj(rule)?.['host'];
      if (present(host)) raw.push(host);
    }
  }
  return raw.map((host) => ({ host, ref }));
}

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** Gateway listener hostnames, and HTTPRoute hostnames attached to a selected Gateway. */
export function hostsFromGatewayApi(
  gateways: readonly unknown[],
  routes: readonly unknown[],
  filter: SourceFilter,
): HostCandidate[] {
  const selected = new Set<string>();
  const out: HostCandidate[] = [];
  for (const gw of gateways) {
    const ref = refOf(gw, `${GATEWAY_GROUP}/v1`, 'Gateway');
    if (ref === undefined) continue;
    const spec = obj(obj(gw)?.['spec']);
    const cls = str(spec?.['gatewayClassName']);
    if (
      filter.gatewayClasses.length > 0 &&
      (cls === undefined || !filter.gatewayClasses.includes(cls))
    ) {
      continue;
    }
    selected.add(`${ref.namespace}/${ref.name}`);
    for (const listener of arr(spec?.['listeners'])) {
      const host = obj(listener)?.['hostname'];
      if (present(host)) out.push({ host, ref });
    }
  }
  for (const route of routes) {
    const ref = refOf(route, `${GATEWAY_GROUP}/v1`, 'HTTPRoute');
    if (ref === undefined) continue;
    const spec = obj(obj(route)?.['spec']);
    const attached = arr(spec?.['parentRefs']).some((p) => {
      const parent = obj(p);
      const group = str(parent?.['group']) ?? GATEWAY_GROUP;
      const kind = str(parent?.['kind']) ?? 'Gateway';
      const name = str(parent?.['name']);
      const ns = str(parent?.['namespace']) ?? ref.namespace;
      return group === GATEWAY_GROUP && kind === 'Gateway' && selected.has(`${ns}/${name}`);
    });
    if (!attached) continue;
    for (const host of arr(spec?.['hostnames'])) out.push({ host, ref });
  }
  return out;
}

/** Validated, unique, sorted hosts, and every refusal with its object (none drops another). */
export function decideHosts(
  candidates: readonly HostCandidate[],
  policy: HostnamePolicy,
): HostDecision {
  const hosts = new Set<string>();
  const accepted: SourcedHost[] = [];
  const rejected: HostRejection[] = [];
  for (const { host, ref } of candidates) {
    const check = checkHostname(host, policy);
    if (check.ok) {
      hosts.add(check.host);
      accepted.push({ host: check.host, ref });
    } else {
      rejected.push({
        host: describeValue(host),
        reason: check.reason,
        message: check.message,
        ref,
      });
    }
  }
  return { hosts: [...hosts].sort(), accepted, rejected };
}

/**
 * The candidates that only the ingress / gateway class filter keeps out: what the same
 * objects would give with no class filter, minus what they give with it. (An HTTPRoute
 * counts when it is attached to existing Gateways, none of them selected.) For reports
 * only: what is managed comes from hostsFromIngress / hostsFromGatewayApi alone.
 */
export function classFilteredHosts(
  objects: {
    readonly ingresses: readonly unknown[];
    readonly gateways: readonly unknown[];
    readonly routes: readonly unknown[];
  },
  filter: SourceFilter,
): SourcedHost[] {
  if (filter.ingressClasses.length === 0 && filter.gatewayClasses.length === 0) return [];
  const all = (f: SourceFilter): HostCandidate[] => [
    ...objects.ingresses.flatMap((i) => hostsFromIngress(i, f)),
    ...hostsFromGatewayApi(objects.gateways, objects.routes, f),
  ];
  const described = (c: HostCandidate): SourcedHost => ({
    host: describeValue(c.host),
    ref: c.ref,
  });
  const key = (c: SourcedHost): string =>
    `${c.ref.kind}/${c.ref.namespace}/${c.ref.name}\n${c.host}`;
  const kept = new Set(all(filter).map(described).map(key));
  return all({ ...filter, ingressClasses: [], gatewayClasses: [] })
    .map(described)
    .filter((c) => !kept.has(key(c)));
}
