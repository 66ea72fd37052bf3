// Watches: the open streams, event fan-out, BOOKMARK events and the 410 for a watch from
// before the history the fake keeps.
import type { ServerResponse } from 'node:http';
import type { KubeObject } from './kube-requests.ts';
import { apiVersionOf, parseRv, type ResourceType } from './kube-resources.ts';
import type { KubeStore } from './kube-store.ts';
import { ApiError } from './kube-validation.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  readonly rv: number;
  readonly type: EventType;
  readonly resource: ResourceType;
  readonly object: KubeObject;
}

export interface Watcher {
  readonly resource: ResourceType;
  readonly namespace: string | undefined;
  readonly matches: (o: KubeObject) => boolean;
  readonly res: ServerResponse;
  readonly bookmarks: boolean;
}

/** A BOOKMARK with the given resourceVersion. */
export function sendBookmark(w: Watcher, rv: number): void {
  w.res.write(
    `${JSON.stringify({
      type: 'BOOKMARK',
      object: {
        kind: w.resource.kind,
        apiVersion: apiVersionOf(w.resource),
        metadata: { resourceVersion: String(rv), creationTimestamp: null },
      },
    })}\n`,
  );
}

/** An event to a watch, if it is of the watch's resource, namespace and selector. */
export function sendEvent(w: Watcher, e: StoredEvent): void {
  if (e.resource !== w.resource) return;
  if (w.namespace !== undefined && e.object.metadata?.namespace !== w.namespace) return;
  if (!w.matches(e.object)) return;
  w.res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
}

/** A watch request: replays, then streams until closed or timed out. */
export function openWatch(
  store: KubeStore,
  type: ResourceType,
  namespace: string | undefined,
  matches: (o: KubeObject) => boolean,
  query: Record<string, string>,
  res: ServerResponse,
): void {
  const from = query['resourceVersion'] ?? '';
  const fromRv = from === '' || from === '0' ? undefined : parseRv(from);
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  const watcher: Watcher = {
    resource: type,
    namespace,
    matches,
    res,
    bookmarks: query['allowWatchBookmarks'] === 'true',
  };
  if (fromRv !== undefined && fromRv < store.compactedBefore) {
    const expired = new ApiError(
      410,
      'Expired',
      `too old resource version: ${from} (${store.compactedBefore})`,
    );
    res.end(`${JSON.stringify({ type: 'ERROR', object: expired.status() })}\n`);
    return;
  }
  if (fromRv === undefined) {
    for (const o of store.objects.values()) {
      if (o.apiVersion === apiVersionOf(type) && o.kind === type.kind) {
        sendEvent(watcher, { rv: store.rv, type: 'ADDED', resource: type, object: o });
      }
    }
  } else {
    for (const e of store.history) if (e.rv > fromRv) sendEvent(watcher, e);
  }
  store.watchers.add(watcher);
  const timeout = Number(query['timeoutSeconds'] ?? 0);
  const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
  // The real server sends a bookmark about 2 s before a watch's deadline.
  const lastBookmark =
    watcher.bookmarks && timeout > 2
      ? setTimeout(() => sendBookmark(watcher, store.rv), (timeout - 2) * 1000)
      : undefined;
  res.on('close', () => {
    clearTimeout(timer);
    clearTimeout(lastBookmark);
    store.watchers.delete(watcher);
  });
}
