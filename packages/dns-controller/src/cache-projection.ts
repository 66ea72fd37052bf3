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

function metadata(o: Json | undefined): Json {
  const m = obj(o?.['metadata']) ?? {};
  const annotations = obj(m['annotations']);
  const kept: Json = {};
  for (const k of KEPT_ANNOTATIONS) if (annotations?.[k] !== undefined) kept[k] = annotations[k];
  return defined({
    name: m['name'],
    namespace: m['namespace'],
    uid: m['uid'],
    resourceVersion: m['resourceVersion'],
    creationTimestamp: m['creationTimestamp'],
    annotations: Object.keys(kept).length === 0 ? undefined : kept,
  });
}

function defined(o: Json): Json {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** status.loadBalancer.ingress[]: ip, hostname, ipMode (KEP-1860). */
function loadBalancer(o: Json | undefined): Json | undefined {
  const entries = obj(obj(o?.['status'])?.['loadBalancer'])?.['ingress'];
  if (!Array.isArray(entries)) return undefined;
  return {
    loadBalancer: {
      ingress: entries.map((e) => {
        const x = obj(e);
        return defined({ ip: x?.['ip'], hostname: x?.['hostname'], ipMode: x?.['ipMode'] });
      }),
    },
  };
}

/** Ingress: class, rules[].host, tls[].hosts, the load balancer's addresses. */
export function projectIngress<T>(ingress: T): T {
  const o = obj(ingress);
  const spec = obj(o?.['spec']);
  return defined({
    metadata: metadata(o),
    spec: spec && {
      ...defined({ ingressClassName: spec['ingressClassName'] }),
      ...(spec['rules'] === undefined
        ? {}
        : { rules: arr(spec['rules']).map((r) => ({ host: obj(r)?.['host'] })) }),
      ...(spec['tls'] === undefined
        ? {}
        : { tls: arr(spec['tls']).map((t) => ({ hosts: obj(t)?.['hosts'] })) }),
    },
    status: loadBalancer(o),
  }) as T;
}

/** Service: the relay's ClusterIP, load balancers' ipMode. */
export function projectService<T>(service: T): T {
  const o = obj(service);
  const spec = obj(o?.['spec']);
  return defined({
    metadata: metadata(o),
    spec: spec && defined({ clusterIP: spec['clusterIP'], clusterIPs: spec['clusterIPs'] }),
    status: loadBalancer(o),
  }) as T;
}

/** Gateway: class and listener hostnames. */
export function projectGateway<T>(gateway: T): T {
  const o = obj(gateway);
  const spec = obj(o?.['spec']);
  return defined({
    apiVersion: o?.['apiVersion'],
    metadata: metadata(o),
    spec: spec && {
      ...defined({ gatewayClassName: spec['gatewayClassName'] }),
      listeners: arr(spec['listeners']).map((l) => ({ hostname: obj(l)?.['hostname'] })),
    },
  }) as T;
}

/** HTTPRoute: parent Gateways and hostnames. */
export function projectRoute<T>(route: T): T {
  const o = obj(route);
  const spec = obj(o?.['spec']);
  return defined({
    apiVersion: o?.['apiVersion'],
    metadata: metadata(o),
    spec: spec && {
      parentRefs: arr(spec['parentRefs']).map((p) => {
        const x = obj(p);
        return defined({
          group: x?.['group'],
          kind: x?.['kind'],
          name: x?.['name'],
          namespace: x?.['namespace'],
        });
      }),
      hostnames: spec['hostnames'],
    },
  }) as T;
}
