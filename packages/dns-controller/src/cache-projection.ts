// What the caches keep of each watched object: the fields the controller reads, nothing
// else. An Ingress as the API serves it carries managedFields and often the whole
// last-applied-configuration annotation, most of its bytes; at 20,000 hosts whole objects
// made the controller's memory, not its work, the limit (issue 19). Tenant input stays
// unchecked here: sources.ts reads these with the same type checks as whole objects.
import { NODE_HOSTS_ANNOTATION } from '@hairpin/shared';

type Json = Record<string, unknown>;

const obj = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The annotations the controller reads: the legacy ingress class, the node-hosts choice. */
const KEPT_ANNOTATIONS = ['kubernetes.io/ingress.class', NODE_HOSTS_ANNOTATION];

/** The given keys of `o` that are set. */
function pick(o: Json | undefined, keys: readonly string[]): Json {
  const kept: Json = {};
  for (const k of keys) if (o?.[k] !== undefined) kept[k] = o[k];
  return kept;
}

function metadata(o: Json | undefined): Json {
  const m = obj(o?.['metadata']);
  const annotations = pick(obj(m?.['annotations']), KEPT_ANNOTATIONS);
  return {
    ...pick(m, ['name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp']),
    ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
  };
}

/**
 * What every projection keeps: metadata, `spec` as `projectSpec` gives it (when there is
 * one), and the top-level fields `rest` gives.
 */
function project<T>(
  object: T,
  projectSpec: (spec: Json) => Json,
  rest: (o: Json | undefined) => Json = () => ({}),
): T {
  const o = obj(object);
  const spec = obj(o?.['spec']);
  return {
    ...rest(o),
    metadata: metadata(o),
    ...(spec === undefined ? {} : { spec: projectSpec(spec) }),
  } as T;
}

/** status.loadBalancer.ingress[]: ip, hostname, ipMode (KEP-1860). */
function loadBalancer(o: Json | undefined): Json {
  const entries = obj(obj(o?.['status'])?.['loadBalancer'])?.['ingress'];
  if (!Array.isArray(entries)) return {};
  const ingress = entries.map((e) => pick(obj(e), ['ip', 'hostname', 'ipMode']));
  return { status: { loadBalancer: { ingress } } };
}

const apiVersion = (o: Json | undefined): Json => pick(o, ['apiVersion']);

/** Ingress: class, rules[].host, tls[].hosts, the load balancer's addresses. */
export function projectIngress<T>(ingress: T): T {
  return project(
    ingress,
    (spec) => ({
      ...pick(spec, ['ingressClassName']),
      ...(spec['rules'] === undefined
        ? {}
        : { rules: arr(spec['rules']).map((r) => ({ host: obj(r)?.['host'] })) }),
      ...(spec['tls'] === undefined
        ? {}
        : { tls: arr(spec['tls']).map((t) => ({ hosts: obj(t)?.['hosts'] })) }),
    }),
    loadBalancer,
  );
}

/** Service: the relay's ClusterIP, load balancers' ipMode. */
export function projectService<T>(service: T): T {
  return project(service, (spec) => pick(spec, ['clusterIP', 'clusterIPs']), loadBalancer);
}

/** Gateway: class and listener hostnames. */
export function projectGateway<T>(gateway: T): T {
  return project(
    gateway,
    (spec) => ({
      ...pick(spec, ['gatewayClassName']),
      listeners: arr(spec['listeners']).map((l) => ({ hostname: obj(l)?.['hostname'] })),
    }),
    apiVersion,
  );
}

/** HTTPRoute: parent Gateways and hostnames. */
export function projectRoute<T>(route: T): T {
  return project(
    route,
    (spec) => ({
      parentRefs: arr(spec['parentRefs']).map((p) =>
        pick(obj(p), ['group', 'kind', 'name', 'namespace']),
      ),
      hostnames: spec['hostnames'],
    }),
    apiVersion,
  );
}
