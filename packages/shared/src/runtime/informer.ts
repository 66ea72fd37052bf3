// A list-watch cache that does not stay dead. @kubernetes/client-node 2.0.1's informer
// (ListWatch) re-lists on 410 and reconnects when a stream ends, but on any other error
// (connection refused, a 5xx, a failed list, a dropped stream that errors) it calls its
// error handlers and stops for good. This wrapper restarts it with exponential backoff
// and jitter, and ignores the late AbortError that its own stop() produces.
import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from './logger.ts';

export interface ListResult<T> {
  readonly items: T[];
  readonly metadata?: { readonly resourceVersion?: string } | undefined;
}

export interface InformerOptions<T extends KubernetesObject> {
  /** For logs, e.g. "ingresses". */
  readonly name: string;
  readonly kubeConfig: KubeConfig;
  /** The collection's API path, e.g. /apis/networking.k8s.io/v1/ingresses. */
  readonly path: string;
  readonly list: () => Promise<ListResult<T>>;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly log: Logger;
  /** Any change to the cache: add, update, delete (a re-list reports what changed). */
  readonly onChange?: (kind: 'add' | 'update' | 'delete', object: T) => void;
  /** After every successful list, with what it returned (the cache is updated right after). */
  readonly onSynced?: (items: readonly T[]) => void;
  /** Each restart after an error. */
  readonly onRestart?: (err: unknown) => void;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /**
   * What the cache keeps of each object, applied to watch events before the cache sees
   * them: the fields the caller reads, so that managedFields and the last-applied
   * annotation (often most of an object) are not held. It must keep metadata.name,
   * .namespace and .resourceVersion. `list` returns its items already in that form (a list
   * read in pages can apply it to each page, and never holds the whole response).
   */
  readonly transform?: (object: T) => T;
}

export class ResilientInformer<T extends KubernetesObject> {
  private readonly informer: ListWatch<T>;
  private readonly options: InformerOptions<T>;
  private running = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastError: unknown;
  /** A list has succeeded since start(). */
  synced = false;
  /** No error since the last successful list or event. */
  healthy = false;
  restarts = 0;

  constructor(options: InformerOptions<T>) {
    this.options = options;
    const { transform } = options;
    const list = async (): Promise<ListResult<T>> => {
      const result = await options.list();
      this.synced = true;
      this.healthy = true;
      this.failures = 0;
      options.onSynced?.(result.items);
      return result;
    };
    this.informer = new ListWatch<T>(
      options.path,
      transform === undefined
        ? new Watch(options.kubeConfig)
        : transformingWatch(options.kubeConfig, transform),
      list as () => Promise<{ items: T[]; metadata: { resourceVersion: string } }>,
      false,
      options.labelSelector,
      options.fieldSelector,
    );
    for (const kind of ['add', 'update', 'delete'] as const) {
      this.informer.on(kind, (obj: T) => {
        this.healthy = true;
        this.failures = 0;
        options.onChange?.(kind, obj);
      });
    }
    this.informer.on('error', (err: unknown) => this.onError(err));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.begin();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    void this.informer.stop();
  }

  list(): T[] {
    return [...this.informer.list()];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  get error(): unknown {
    return this.lastError;
  }

  private begin(): void {
    this.informer.start().catch((err: unknown) => this.onError(err));
  }

  private onError(err: unknown): void {
    // stop() aborts the request in flight, which reports an AbortError afterwards.
    if (!this.running || (err instanceof Error && err.name === 'AbortError')) return;
    this.healthy = false;
    this.lastError = err;
    this.failures++;
    this.restarts++;
    const min = this.options.minBackoffMs ?? 200;
    const max = this.options.maxBackoffMs ?? 30_000;
    const base = Math.min(max, min * 2 ** Math.min(this.failures - 1, 16));
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.options.log.warn(
      { err, informer: this.options.name, retryInMs: delay, failures: this.failures },
      'watch failed, restarting',
    );
    this.options.onRestart?.(err);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.running) return;
      void this.informer.stop().then(() => this.running && this.begin());
    }, delay);
    this.timer.unref();
  }
}

/** A Watch whose ADDED / MODIFIED / DELETED objects are transformed before the cache sees them. */
function transformingWatch<T>(kubeConfig: KubeConfig, transform: (object: T) => T): Watch {
  const watch = new Watch(kubeConfig);
  const original = watch.watch.bind(watch);
  watch.watch = (path, query, callback, done) =>
    original(
      path,
      query,
      (phase: string, object: unknown, raw: unknown) =>
        callback(
          phase,
          phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED'
            ? transform(object as T)
            : object,
          raw,
        ),
      done,
    );
  return watch;
}
