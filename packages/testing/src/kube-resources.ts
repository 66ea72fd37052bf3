// The resource types the fake serves, and the Status errors and object helpers it shares
// across its modules.
import { ApiError } from './kube-validation.ts';
import type { KubeObject } from './kube-requests.ts';

export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** metadata.generation is kept (spec changes bump it). */
  readonly generation?: boolean;
  /** status is written through /status only (and spec through the main resource only). */
  readonly statusSubresource?: boolean;
}

export const DEFAULT_NAMESPACES = [
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
  'hairpin',
];

export const NAMESPACES: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'namespaces',
  kind: 'Namespace',
  namespaced: false,
};

export const CORE: ResourceType[] = [
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  {
    group: '',
    version: 'v1',
    plural: 'services',
    kind: 'Service',
    namespaced: true,
    statusSubresource: true,
  },
  { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  NAMESPACES,
  {
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'ingresses',
    kind: 'Ingress',
    namespaced: true,
    generation: true,
    statusSubresource: true,
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    plural: 'leases',
    kind: 'Lease',
    namespaced: true,
  },
  { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
];

export const GATEWAY_API: ResourceType[] = [
  {
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'gateways',
    kind: 'Gateway',
    namespaced: true,
    generation: true,
    statusSubresource: true,
  },
  {
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'httproutes',
    kind: 'HTTPRoute',
    namespaced: true,
    generation: true,
    statusSubresource: true,
  },
];

/** Reason phrases for injected failures, as the apiserver names them. */
export const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function apiVersionOf(t: ResourceType): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

/** The resource as error messages name it: `configmaps`, `leases.coordination.k8s.io`. */
export function qualified(t: ResourceType): string {
  return t.group === '' ? t.plural : `${t.plural}.${t.group}`;
}

export function resourceDetails(t: ResourceType, name: string): Record<string, string> {
  return { name, ...(t.group === '' ? {} : { group: t.group }), kind: t.plural };
}

export function notFound(t: ResourceType, name: string): ApiError {
  return new ApiError(
    404,
    'NotFound',
    `${qualified(t)} ${JSON.stringify(name)} not found`,
    resourceDetails(t, name),
  );
}

export function conflict(t: ResourceType, name: string): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(t)} ${JSON.stringify(name)}: the object has been modified; please apply your changes to the latest version and try again`,
    resourceDetails(t, name),
  );
}

export const NO_RESOURCE = () =>
  new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

export const clone = <T>(o: T): T => structuredClone(o);

/** Whole seconds, UTC: how the apiserver serves a metav1.Time. */
export function now(): string {
  return `${new Date().toISOString().slice(0, 19)}Z`;
}

/** What a replace compares: everything but server-set metadata. */
export function content(o: KubeObject): string {
  const { metadata = {}, ...rest } = o;
  const {
    resourceVersion: _rv,
    uid: _uid,
    creationTimestamp: _ct,
    generation: _g,
    managedFields: _mf,
    ...meta
  } = metadata;
  return JSON.stringify({ ...rest, metadata: meta });
}

/** A list item as the apiserver serves it: no kind, no apiVersion. */
export function listItem(o: KubeObject): KubeObject {
  const { kind: _k, apiVersion: _a, ...rest } = o;
  return rest;
}

/** etcd's key order: by name within a namespace, by namespace/name across them. */
export function orderKey(o: KubeObject, namespace: string | undefined): string {
  const name = o.metadata?.name ?? '';
  return namespace === undefined && o.metadata?.namespace !== undefined
    ? `${o.metadata.namespace}/${name}`
    : name;
}

export function parseRv(value: string): number {
  if (!/^\d+$/.test(value)) {
    throw new ApiError(
      500,
      undefined,
      `resourceVersion: Invalid value: ${JSON.stringify(value)}: strconv.ParseUint: parsing ${JSON.stringify(value)}: invalid syntax`,
    );
  }
  return Number(value);
}

export interface Route {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly status: boolean;
}
