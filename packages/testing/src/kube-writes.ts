// Writes through the API: request bodies, PUT/PATCH after decoding, DELETE with
// preconditions, and a Service's defaults and allocations.
import type { KubeObject } from './kube-requests.ts';
import {
  apiVersionOf,
  notFound,
  resourceDetails,
  type ResourceType,
  type Route,
} from './kube-resources.ts';
import type { KubeStore } from './kube-store.ts';
import { ApiError, invalidField, validateObject } from './kube-validation.ts';

/** A request body for a write: kind, apiVersion and the namespace of the URL. */
export function incoming(
  type: ResourceType,
  namespace: string | undefined,
  body: unknown,
): KubeObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(400, 'BadRequest', `the body of the request was in an unknown format`);
  }
  const o = body as KubeObject;
  const given = o.metadata?.namespace;
  if (namespace !== undefined && given !== undefined && given !== '' && given !== namespace) {
    throw new ApiError(
      400,
      'BadRequest',
      'the namespace of the provided object does not match the namespace sent on the request',
    );
  }
  return {
    ...o,
    apiVersion: apiVersionOf(type),
    kind: type.kind,
    metadata: { ...o.metadata, ...(namespace === undefined ? {} : { namespace }) },
  };
}

/** PUT or PATCH after decoding: status subresource rules, validation, optimistic lock. */
export function update(
  store: KubeStore,
  route: Route,
  decoded: KubeObject,
  dryRun: boolean,
): KubeObject {
  const { type, namespace, name } = route;
  const current = store.objects.get(store.key(type, namespace, name!));
  if (current === undefined) throw notFound(type, name!);
  let next = decoded;
  if (type.statusSubresource) {
    // /status writes only status; the main resource writes everything but status.
    const { status: _s, ...rest } = route.status ? current : decoded;
    const status = route.status ? decoded['status'] : current['status'];
    next = {
      ...rest,
      ...(status === undefined ? {} : { status }),
      metadata: { ...rest.metadata, resourceVersion: decoded.metadata?.resourceVersion ?? '' },
    };
    if (decoded.metadata?.resourceVersion === undefined) delete next.metadata!.resourceVersion;
  }
  const invalid = validateObject(type, next, namespace);
  if (invalid !== undefined) throw invalid;
  if (type.kind === 'Service') defaultService(store, next, current);
  return store.replaceObject(type, next, true, dryRun);
}

/**
 * A Service's defaults and allocations, as the apiserver fills them: type, ports'
 * protocol and targetPort, clusterIP(s) from 10.96.0.0/12, node ports for NodePort and
 * LoadBalancer, traffic policies, status.loadBalancer. A clusterIP never changes.
 */
export function defaultService(
  store: KubeStore,
  o: KubeObject,
  current: KubeObject | undefined,
): void {
  const t = store.typeOf('v1', 'Service');
  const name = o.metadata?.name ?? '';
  const spec = (o['spec'] ??= {}) as Record<string, unknown>;
  const before = (current?.['spec'] ?? {}) as Record<string, unknown>;
  spec['type'] ??= 'ClusterIP';
  spec['sessionAffinity'] ??= 'None';
  o['status'] ??= { loadBalancer: {} };
  if (spec['type'] === 'ExternalName') return;
  const used = new Set(
    [...store.objects.values()]
      .filter((x) => x.kind === 'Service' && x !== current)
      .flatMap((x) => {
        const s = (x['spec'] ?? {}) as { clusterIP?: string; ports?: { nodePort?: number }[] };
        return [s.clusterIP, ...(s.ports ?? []).map((p) => p.nodePort)];
      }),
  );
  const ipField = (ip: string, detail: string) =>
    invalidField(t, name, {
      reason: 'FieldValueInvalid',
      message: `Invalid value: []string{${JSON.stringify(ip)}}: ${detail}`,
      field: current === undefined ? 'spec.clusterIPs' : 'spec.clusterIPs[0]',
    });
  let ip = spec['clusterIP'] as string | undefined;
  if (current !== undefined && before['clusterIP'] !== undefined) {
    if (ip !== undefined && ip !== '' && ip !== before['clusterIP'])
      throw ipField(ip, 'may not change once set');
    ip = before['clusterIP'] as string;
  } else if (ip !== undefined && ip !== '' && ip !== 'None') {
    const octets = ip.split('.').map(Number);
    if (octets[0] !== 10 || (octets[1]! & 0xf0) !== 96) {
      throw ipField(
        ip,
        `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is 10.96.0.0/12`,
      );
    }
    if (used.has(ip))
      throw ipField(ip, `failed to allocate IP ${ip}: provided IP is already allocated`);
  } else if (ip !== 'None') {
    do {
      const n = 1 + Math.floor(Math.random() * 0xffffe);
      ip = `10.${96 + (n >> 16)}.${(n >> 8) & 0xff}.${n & 0xff}`;
    } while (used.has(ip));
  }
  spec['clusterIP'] = ip;
  spec['clusterIPs'] = [ip];
  spec['ipFamilies'] ??= ['IPv4'];
  spec['ipFamilyPolicy'] ??= 'SingleStack';
  spec['internalTrafficPolicy'] ??= 'Cluster';
  const external = spec['type'] === 'NodePort' || spec['type'] === 'LoadBalancer';
  if (external) spec['externalTrafficPolicy'] ??= 'Cluster';
  if (spec['type'] === 'LoadBalancer') spec['allocateLoadBalancerNodePorts'] ??= true;
  const ports = Array.isArray(spec['ports']) ? (spec['ports'] as Record<string, unknown>[]) : [];
  for (const port of ports) {
    port['protocol'] ??= 'TCP';
    port['targetPort'] ??= port['port'];
    if (external && port['nodePort'] === undefined) {
      let nodePort: number;
      do nodePort = 30000 + Math.floor(Math.random() * 2768);
      while (used.has(nodePort));
      port['nodePort'] = nodePort;
      used.add(nodePort);
    }
  }
}

export function deleteOne(
  store: KubeStore,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  body: unknown,
  dryRun: boolean,
): object {
  const current = store.objects.get(store.key(type, namespace, name));
  if (current === undefined) throw notFound(type, name);
  const pre = (body as { preconditions?: { resourceVersion?: string; uid?: string } } | undefined)
    ?.preconditions;
  const cannot = (what: string) =>
    new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${type.kind} ${JSON.stringify(name)}: ${what}`,
      { name, ...(type.group === '' ? {} : { group: type.group }), kind: type.kind },
    );
  if (pre?.uid !== undefined && pre.uid !== current.metadata?.uid) {
    throw cannot(
      `the UID in the precondition (${pre.uid}) does not match the UID in record (${current.metadata?.uid ?? ''}). The object might have been deleted and then recreated`,
    );
  }
  if (
    pre?.resourceVersion !== undefined &&
    pre.resourceVersion !== current.metadata?.resourceVersion
  ) {
    throw cannot(
      `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${current.metadata?.resourceVersion ?? ''}). The object might have been modified`,
    );
  }
  if (!dryRun) store.deleteObject(type, namespace, name);
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { ...resourceDetails(type, name), uid: current.metadata?.uid ?? '' },
  };
}
