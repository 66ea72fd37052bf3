// The fake's storage: objects by key, the global resourceVersion, the history watches
// replay from, and the writes that emit watch events.
import { randomUUID } from 'node:crypto';
import type { KubeObject } from './kube-requests.ts';
import {
  apiVersionOf,
  clone,
  conflict,
  content,
  CORE,
  NAMESPACES,
  notFound,
  now,
  qualified,
  resourceDetails,
  type ResourceType,
} from './kube-resources.ts';
import { ApiError } from './kube-validation.ts';
import { sendEvent, type EventType, type StoredEvent, type Watcher } from './kube-watch.ts';

/** Events kept for watches to replay (the real watch cache keeps about 100 per resource
 * type, or a few minutes; the fake keeps more, so that tests never meet it by accident). */
export const HISTORY_LIMIT = 20_000;

export class KubeStore {
  readonly types: ResourceType[] = [...CORE];
  readonly objects = new Map<string, KubeObject>();
  readonly history: StoredEvent[] = [];
  readonly watchers = new Set<Watcher>();
  rv = 100;
  /** Watches and lists from before this resourceVersion get 410 Expired. */
  compactedBefore = 0;
  /** Lists that read storage from before this resourceVersion get 410 Expired. */
  storageCompactedBefore = 0;

  typeOf(apiVersion: string, kind: string): ResourceType {
    const t = this.types.find((x) => apiVersionOf(x) === apiVersion && x.kind === kind);
    if (t === undefined) throw new Error(`fake apiserver: unknown type ${apiVersion} ${kind}`);
    return t;
  }

  key(t: ResourceType, namespace: string | undefined, name: string): string {
    return `${t.group}/${t.plural}/${t.namespaced ? (namespace ?? '') : ''}/${name}`;
  }

  namespaceExists(name: string): boolean {
    return this.objects.has(this.key(NAMESPACES, undefined, name));
  }

  ensureNamespace(name: string): void {
    if (this.namespaceExists(name)) return;
    this.store('ADDED', NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }

  emit(type: EventType, resource: ResourceType, object: KubeObject): void {
    const event: StoredEvent = { rv: this.rv, type, resource, object: clone(object) };
    this.history.push(event);
    // A bounded history, as the apiserver's watch cache is: a fake seeded with 200,000
    // hosts keeps its objects once, not twice. A watch from before it gets 410 Expired.
    if (this.history.length > HISTORY_LIMIT) {
      const dropped = this.history.splice(0, this.history.length - HISTORY_LIMIT / 2);
      this.compactedBefore = Math.max(this.compactedBefore, dropped.at(-1)!.rv);
    }
    for (const w of this.watchers) sendEvent(w, event);
  }

  send(w: Watcher, e: StoredEvent): void {
    if (e.resource !== w.resource) return;
    if (w.namespace !== undefined && e.object.metadata?.namespace !== w.namespace) return;
    if (!w.matches(e.object)) return;
    w.res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
  }

  /** Stores a new object: resourceVersion, uid, creationTimestamp, generation. */
  store(type: 'ADDED', t: ResourceType, object: KubeObject): KubeObject {
    this.rv++;
    const stored: KubeObject = {
      ...clone(object),
      metadata: {
        ...clone(object.metadata),
        resourceVersion: String(this.rv),
        uid: randomUUID(),
        creationTimestamp: now(),
        ...(t.generation ? { generation: 1 } : {}),
      },
    };
    this.objects.set(this.key(t, stored.metadata?.namespace, stored.metadata!.name!), stored);
    this.emit(type, t, stored);
    return clone(stored);
  }

  createObject(t: ResourceType, object: KubeObject, dryRun = false): KubeObject {
    const generate = object.metadata?.['generateName'];
    // metadata.generateName: the server appends a random suffix, as the real one does.
    const name =
      object.metadata?.name ||
      (typeof generate === 'string' && generate !== ''
        ? `${generate}${Math.random().toString(36).slice(2, 7)}`
        : '');
    if (name === '') throw new ApiError(422, 'Invalid', 'name or generateName is required');
    object = { ...object, metadata: { ...object.metadata, name } };
    if (this.objects.has(this.key(t, object.metadata?.namespace, name))) {
      throw new ApiError(
        409,
        'AlreadyExists',
        `${qualified(t)} ${JSON.stringify(name)} already exists`,
        resourceDetails(t, name),
      );
    }
    if (dryRun) return { ...object, metadata: { ...object.metadata, uid: randomUUID() } };
    return this.store('ADDED', t, object);
  }

  replaceObject(
    t: ResourceType,
    object: KubeObject,
    checkVersion: boolean,
    dryRun = false,
  ): KubeObject {
    const name = object.metadata?.name ?? '';
    const k = this.key(t, object.metadata?.namespace, name);
    const current = this.objects.get(k);
    if (current === undefined) throw notFound(t, name);
    const given = object.metadata?.resourceVersion;
    if (
      checkVersion &&
      given !== undefined &&
      given !== '' &&
      given !== current.metadata?.resourceVersion
    ) {
      throw conflict(t, name);
    }
    if (content(object) === content(current)) return clone(current);
    const specChanged =
      JSON.stringify(object['spec'] ?? null) !== JSON.stringify(current['spec'] ?? null);
    const next: KubeObject = {
      ...clone(object),
      metadata: {
        ...clone(object.metadata),
        resourceVersion: current.metadata?.resourceVersion ?? '',
        uid: current.metadata?.uid ?? '',
        creationTimestamp: current.metadata?.['creationTimestamp'],
        ...(t.generation
          ? { generation: Number(current.metadata?.['generation'] ?? 1) + (specChanged ? 1 : 0) }
          : {}),
      },
    };
    if (dryRun) return next;
    this.rv++;
    next.metadata!.resourceVersion = String(this.rv);
    this.objects.set(k, next);
    this.emit('MODIFIED', t, next);
    return clone(next);
  }

  deleteObject(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
  ): KubeObject | undefined {
    const k = this.key(t, namespace, name);
    const current = this.objects.get(k);
    if (current === undefined) return undefined;
    this.objects.delete(k);
    this.rv++;
    const last = {
      ...current,
      metadata: { ...current.metadata, resourceVersion: String(this.rv) },
    };
    this.emit('DELETED', t, last);
    return current;
  }
}
