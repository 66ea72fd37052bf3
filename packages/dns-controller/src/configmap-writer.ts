// The one way hairpin writes a ConfigMap: read (or start from the cache), edit, replace
// carrying the resourceVersion it read; a 409 re-reads and edits again (with backoff, a
// bounded number of times); an absent ConfigMap is created when the caller allows it. So
// a concurrent edit of another key, by kubectl or an addon manager, is never lost.
import type { CoreV1Api } from '@kubernetes/client-node';
import { isConflict, isNotFound, type Logger } from '@hairpin/shared/runtime';
import { CONFLICT_BACKOFF_BASE_MS, CONFLICT_RETRIES } from './constants.ts';
import type { CachedConfigMap, DataEdit } from './plan.ts';

export type WriteOutcome = 'unchanged' | 'updated' | 'created' | 'absent';

export interface ConfigMapName {
  readonly namespace: string;
  readonly name: string;
}

export class ConfigMapWriter {
  private readonly core: CoreV1Api;
  private readonly log: Logger;
  private readonly onConflict: () => void;
  private readonly onWritten: (t: ConfigMapName, resourceVersion: string | undefined) => void;

  constructor(options: {
    core: CoreV1Api;
    log: Logger;
    onConflict?: () => void;
    /** Each write made: the resourceVersion the API server gave what it stored. */
    onWritten?: (t: ConfigMapName, resourceVersion: string | undefined) => void;
  }) {
    this.core = options.core;
    this.log = options.log;
    this.onConflict = options.onConflict ?? (() => {});
    this.onWritten = options.onWritten ?? (() => {});
  }

  /** The ConfigMap, or undefined if it does not exist. */
  async read(t: ConfigMapName): Promise<CachedConfigMap | undefined> {
    try {
      return await this.core.readNamespacedConfigMap({ name: t.name, namespace: t.namespace });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Applies `edit` to the ConfigMap's data and writes the result, if it changes anything.
   * `cached`: a copy to start from (a stale one only costs a 409 and a re-read);
   * `create`: labels to create it with when absent (otherwise an absent one is 'absent').
   */
  async apply(
    t: ConfigMapName,
    edit: DataEdit,
    options: {
      cached?: CachedConfigMap | undefined;
      /** The edit's result on `cached`, when the caller has computed it already. */
      edited?: Record<string, string> | undefined;
      create?: { readonly labels: Readonly<Record<string, string>> } | undefined;
    } = {},
  ): Promise<WriteOutcome> {
    let current = options.cached ?? (await this.read(t));
    let precomputed = options.cached === undefined ? undefined : options.edited;
    for (let attempt = 0; ; attempt++) {
      try {
        if (current === undefined) {
          if (options.create === undefined) return 'absent';
          const data = edit(undefined);
          if (data === undefined) return 'unchanged';
          const metadata = { name: t.name, namespace: t.namespace, labels: options.create.labels };
          const created = await this.core.createNamespacedConfigMap({
            namespace: t.namespace,
            body: { metadata, data },
          });
          this.onWritten(t, created.metadata?.resourceVersion);
          this.log.info({ configMap: `${t.namespace}/${t.name}` }, 'ConfigMap created');
          return 'created';
        }
        const data = precomputed ?? edit(current.data);
        precomputed = undefined;
        if (data === undefined) return 'unchanged';
        const replaced = await this.core.replaceNamespacedConfigMap({
          name: t.name,
          namespace: t.namespace,
          body: { ...current, data },
        });
        this.onWritten(t, replaced.metadata?.resourceVersion);
        this.log.info({ configMap: `${t.namespace}/${t.name}` }, 'ConfigMap updated');
        return 'updated';
      } catch (err) {
        // 409: a stale resourceVersion, or created meanwhile by someone else.
        if (!isConflict(err) || attempt >= CONFLICT_RETRIES) throw err;
        this.onConflict();
        await new Promise((r) => setTimeout(r, CONFLICT_BACKOFF_BASE_MS * 2 ** attempt));
        current = await this.read(t);
      }
    }
  }

  /** Deletes the ConfigMap; 'absent' if it was not there. */
  async delete(t: ConfigMapName): Promise<'deleted' | 'absent'> {
    try {
      await this.core.deleteNamespacedConfigMap({ name: t.name, namespace: t.namespace });
      return 'deleted';
    } catch (err) {
      if (isNotFound(err)) return 'absent';
      throw err;
    }
  }
}
