// One API request on a resource, once routed: list, watch, get, create, update, patch,
// delete and deletecollection.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { jsonPatch, mergePatch, type KubeObject } from './kube-requests.ts';
import { inCollection, listResponse, selector } from './kube-list.ts';
import { apiVersionOf, listItem, NAMESPACES, notFound, type Route } from './kube-resources.ts';
import type { KubeStore } from './kube-store.ts';
import { ApiError, decodeObject, validateObject } from './kube-validation.ts';
import { openWatch } from './kube-watch.ts';
import { defaultService, deleteOne, incoming, update } from './kube-writes.ts';

/** One API request; undefined when it answered itself (a watch). */
export async function serve(
  store: KubeStore,
  serviceIpMode: boolean,
  method: string,
  route: Route,
  query: Record<string, string>,
  body: unknown,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<{ code: number; body: unknown } | undefined> {
  const { type, namespace, name } = route;
  const dryRun = query['dryRun'] === 'All';
  if (query['dryRun'] !== undefined && !dryRun) {
    throw new ApiError(
      422,
      'Invalid',
      `CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{${JSON.stringify(query['dryRun'])}}: supported values: "All"`,
    );
  }
  if (method === 'GET' && name === undefined) {
    const matches = selector(query, type.kind);
    if (query['watch'] === 'true' || query['watch'] === '1') {
      openWatch(store, type, namespace, matches, query, res);
      return undefined;
    }
    return { code: 200, body: await listResponse(store, type, namespace, matches, query) };
  }
  if (method === 'GET') {
    const o = store.objects.get(store.key(type, namespace, name!));
    if (o === undefined) throw notFound(type, name!);
    return { code: 200, body: o };
  }
  if (method === 'POST' && name === undefined) {
    const o = incoming(type, namespace, body);
    if (namespace !== undefined && !store.namespaceExists(namespace))
      throw notFound(NAMESPACES, namespace);
    const decoded = decodeObject(type, o, { serviceIpMode });
    const invalid = validateObject(type, decoded, namespace);
    if (invalid !== undefined) throw invalid;
    if (type.kind === 'Service') defaultService(store, decoded, undefined);
    return { code: 201, body: store.createObject(type, decoded, dryRun) };
  }
  if (method === 'PUT' && name !== undefined) {
    const o = incoming(type, namespace, body);
    if (o.metadata?.name !== name) {
      throw new ApiError(
        400,
        'BadRequest',
        `the name of the object (${o.metadata?.name ?? ''}) does not match the name on the URL (${name})`,
      );
    }
    const decoded = decodeObject(type, o, { serviceIpMode });
    return { code: 200, body: update(store, route, decoded, dryRun) };
  }
  if (method === 'PATCH' && name !== undefined) {
    const current = store.objects.get(store.key(type, namespace, name));
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    const patch =
      contentType === 'application/merge-patch+json' ||
      contentType === 'application/strategic-merge-patch+json'
        ? mergePatch
        : contentType === 'application/json-patch+json'
          ? jsonPatch
          : undefined;
    if (patch === undefined) {
      throw new ApiError(415, 'UnsupportedMediaType', '415: Unsupported Media Type', {});
    }
    if (current === undefined) throw notFound(type, name);
    const patched = patch(current, body) as KubeObject;
    let decoded: KubeObject;
    try {
      decoded = decodeObject(type, patched, { serviceIpMode });
    } catch (err) {
      // A patched object that does not decode is a 422 on the field "patch".
      if (!(err instanceof ApiError)) throw err;
      const detail = err.message.replace(/^.* cannot be handled as a \w+: /, '');
      const message = `Invalid value: ${JSON.stringify(JSON.stringify(patched))}: ${detail}`;
      throw new ApiError(422, 'Invalid', ` "" is invalid: patch: ${message}`, {
        causes: [{ reason: 'FieldValueInvalid', message, field: 'patch' }],
      });
    }
    return { code: 200, body: update(store, route, decoded, dryRun) };
  }
  if (method === 'DELETE' && name !== undefined) {
    return { code: 200, body: deleteOne(store, type, namespace, name, body, dryRun) };
  }
  if (method === 'DELETE') {
    const matches = selector(query, type.kind);
    const listRv = store.rv;
    const victims = [...store.objects.values()].filter(
      (o) => inCollection(o, type, namespace) && matches(o),
    );
    const items = dryRun
      ? victims
      : victims.map((o) => store.deleteObject(type, o.metadata?.namespace, o.metadata!.name!)!);
    return {
      code: 200,
      body: {
        kind: `${type.kind}List`,
        apiVersion: apiVersionOf(type),
        metadata: { resourceVersion: String(listRv) },
        items: items.map(listItem),
      },
    };
  }
  throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method`);
}
