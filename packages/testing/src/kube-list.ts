// Lists: selectors, resourceVersion semantics (410, 504), limit/continue pagination.
import {
  decodeContinue,
  encodeContinue,
  fieldSelector,
  labelSelector,
  type KubeObject,
} from './kube-requests.ts';
import { apiVersionOf, listItem, orderKey, parseRv, type ResourceType } from './kube-resources.ts';
import type { KubeStore } from './kube-store.ts';
import { ApiError } from './kube-validation.ts';

export function inCollection(
  o: KubeObject,
  type: ResourceType,
  namespace: string | undefined,
): boolean {
  return (
    o.apiVersion === apiVersionOf(type) &&
    o.kind === type.kind &&
    (namespace === undefined || o.metadata?.namespace === namespace)
  );
}

export function selector(query: Record<string, string>, kind: string): (o: KubeObject) => boolean {
  const labels = labelSelector(query['labelSelector'] ?? '');
  const fields = fieldSelector(query['fieldSelector'] ?? '', kind);
  return (o) => labels(o) && fields(o);
}

/** A list request's response. */
export async function listResponse(
  store: KubeStore,
  type: ResourceType,
  namespace: string | undefined,
  matches: (o: KubeObject) => boolean,
  query: Record<string, string>,
): Promise<object> {
  const rvText = query['resourceVersion'];
  const match = query['resourceVersionMatch'];
  if (match !== undefined && (rvText === undefined || rvText === '')) {
    const message =
      'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided';
    throw new ApiError(
      422,
      'Invalid',
      `ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: ${message}`,
      {
        group: 'meta.k8s.io',
        kind: 'ListOptions',
        causes: [{ reason: 'FieldValueForbidden', message, field: 'resourceVersionMatch' }],
      },
    );
  }
  let listRv = store.rv;
  if (rvText !== undefined && rvText !== '' && rvText !== '0') {
    const rv = parseRv(rvText);
    if (rv > store.rv) {
      // The real server waits for its cache to catch up, then gives up.
      await new Promise((r) => setTimeout(r, 3_000));
      if (rv > store.rv) {
        throw new ApiError(
          504,
          'Timeout',
          `Timeout: Too large resource version: ${rv}, current: ${store.rv}`,
          {
            causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
            retryAfterSeconds: 1,
          },
        );
      }
    }
    const fromEtcd = match === 'Exact' || query['limit'] !== undefined;
    if (fromEtcd && rv < Math.max(store.compactedBefore, store.storageCompactedBefore)) {
      throw new ApiError(410, 'Expired', 'The resourceVersion for the provided list is too old.');
    }
  }
  let items = [...store.objects.values()]
    .filter((o) => inCollection(o, type, namespace) && matches(o))
    .sort((a, b) => orderKey(a, namespace).localeCompare(orderKey(b, namespace)));
  const metadata: Record<string, unknown> = {};
  if (query['continue'] !== undefined) {
    const token = decodeContinue(query['continue']);
    if (token.rv < Math.max(store.compactedBefore, store.storageCompactedBefore)) {
      throw new ApiError(
        410,
        'Expired',
        'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        undefined,
        { continue: encodeContinue(-1, token.start) },
      );
    }
    listRv = token.rv;
    items = items.filter((o) => orderKey(o, namespace) >= token.start);
  }
  const limit = Number(query['limit'] ?? 0);
  if (limit > 0 && items.length > limit) {
    const rest = items.length - limit;
    items = items.slice(0, limit);
    metadata['continue'] = encodeContinue(
      listRv,
      `${orderKey(items[limit - 1]!, namespace)}\u0000`,
    );
    metadata['remainingItemCount'] = rest;
  }
  return {
    kind: `${type.kind}List`,
    apiVersion: apiVersionOf(type),
    metadata: { resourceVersion: String(listRv), ...metadata },
    items: items.map(listItem),
  };
}
