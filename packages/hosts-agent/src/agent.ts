// The hosts agent: keeps hairpin's lines in the node's hosts file in step with the
// `hairpin-hosts` ConfigMap the dns-controller publishes.
//
// What it knows about the ConfigMap is one of: not yet known (no successful list since
// start), published (hosts + relay IP), or gone (a DELETED event, or absent from a
// successful list: the uninstall cleanup). Only "gone" removes lines; an API outage or a
// restart leaves the file as it is.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { KubeConfig, V1ConfigMap } from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import {
  applyHostsFile,
  decodePublishedHosts,
  HOSTS_CONFIGMAP_NAME,
  managedHostsFileEntries,
  NODE_HOSTS_ANNOTATION,
  textFromBytes,
  type HostnamePolicy,
  type PublishedHosts,
} from '@hairpin/shared';
import { ResilientInformer } from '@hairpin/shared/kube';
import { done, retry, WorkQueue, type Logger, type WorkResult } from '@hairpin/shared/runtime';
import { editFileInPlace } from './hosts-file-writer.ts';
import type { AgentMetrics } from './metrics.ts';
import { capToLines, DEFAULT_MAX_LINES, selectNodeHosts, type NodeHostsMode } from './select.ts';

export interface AgentOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly hostsFile: string;
  readonly policy: HostnamePolicy;
  readonly resyncMs: number;
  readonly log: Logger;
  readonly metrics: AgentMetrics;
  /** Debounce for bursts of file and API events. */
  readonly debounceMs?: number;
  /** Which published hosts the node gets (select.ts); default auto, no suffixes. */
  readonly nodeHosts?: NodeHostsMode;
  readonly nodeHostSuffixes?: readonly string[];
  /** At most this many managed lines (default DEFAULT_MAX_LINES). */
  readonly maxLines?: number;
}

/** A burst of file events (an editor's save is several) and API events: one check. */
const DEFAULT_DEBOUNCE_MS = 50;
/** A failed write (EACCES, EROFS, a full disk) is retried after 1 s·2ⁿ, at most 60 s:
 * a fixed mount or permission is picked up soon, a lasting one logs once a minute. */
const WRITE_BACKOFF = { baseMs: 1_000, maxMs: 60_000 } as const;

type Published =
  { state: 'unknown' } | { state: 'published'; value: PublishedHosts } | { state: 'gone' };

export class HostsAgent {
  private readonly options: AgentOptions;
  private readonly informer: ResilientInformer<V1ConfigMap>;
  private published: Published = { state: 'unknown' };
  private watchers: FSWatcher[] = [];
  private readonly queue: WorkQueue;
  /** The line cap last reported ('' while it is not reached). */
  private capSignature = '';
  /** The file has been brought in line with a known state at least once. */
  synced = false;
  lastError: unknown;

  constructor(options: AgentOptions) {
    this.options = options;
    this.queue = new WorkQueue({
      work: () => this.sync(),
      debounceMs: options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
      backoff: WRITE_BACKOFF,
      periodMs: options.resyncMs,
    });
    const api = options.kubeConfig.makeApiClient(CoreV1Api);
    const fieldSelector = `metadata.name=${HOSTS_CONFIGMAP_NAME}`;
    this.informer = new ResilientInformer<V1ConfigMap>({
      name: HOSTS_CONFIGMAP_NAME,
      kubeConfig: options.kubeConfig,
      path: `/api/v1/namespaces/${options.namespace}/configmaps`,
      fieldSelector,
      list: () => api.listNamespacedConfigMap({ namespace: options.namespace, fieldSelector }),
      log: options.log,
      onChange: (kind, cm) => {
        if (kind === 'delete') this.setGone('the ConfigMap was deleted');
        else this.setPublished(cm);
      },
      onSynced: (items) => {
        // Absent from a successful list: it is gone (uninstalled), not unreachable.
        if (!items.some((cm) => cm.metadata?.name === HOSTS_CONFIGMAP_NAME)) {
          this.setGone('no ConfigMap after a successful list');
        }
      },
    });
  }

  start(): void {
    this.queue.start();
    this.informer.start();
    this.watchFile();
  }

  async stop(): Promise<void> {
    this.informer.stop();
    for (const w of this.watchers) w.close();
    await this.queue.stop();
  }

  notReadyReason(): string | null {
    if (!this.informer.synced) return `no successful list of ConfigMap ${HOSTS_CONFIGMAP_NAME} yet`;
    if (!this.synced) return 'hosts file not synced yet';
    return null;
  }

  private setPublished(cm: V1ConfigMap): void {
    const decoded = decodePublishedHosts(cm.data, this.options.policy);
    if (!decoded.ok) {
      this.options.log.error(
        { error: decoded.error },
        `ConfigMap ${HOSTS_CONFIGMAP_NAME} is invalid; the hosts file is left as it is`,
      );
      this.options.metrics.writes.inc({ result: 'error' });
      return;
    }
    for (const host of decoded.refused) {
      this.options.log.warn(
        { host },
        `ConfigMap ${HOSTS_CONFIGMAP_NAME} holds a hostname the policy refuses; skipped`,
      );
    }
    this.published = { state: 'published', value: decoded.value };
    this.schedule();
  }

  private setGone(why: string): void {
    if (this.published.state !== 'gone')
      this.options.log.info({ why }, 'removing managed hosts-file lines');
    this.published = { state: 'gone' };
    this.schedule();
  }

  private watchFile(): void {
    // Watch the file (a bind mount keeps its inode; in-place writers change it) and its
    // directory (editors and tools that replace the file with a new one).
    const onEvent = (): void => this.schedule();
    const file = this.options.hostsFile;
    for (const [target, filter] of [
      [file, undefined],
      [dirname(file), basename(file)],
    ] as const) {
      try {
        const w = watch(target, { persistent: false }, (_event, name) => {
          if (filter === undefined || name === filter) onEvent();
        });
        w.on('error', (err) =>
          this.options.log.warn(
            { err, target },
            'file watch failed; relying on the periodic re-check',
          ),
        );
        this.watchers.push(w);
      } catch (err) {
        this.options.log.warn({ err, target }, 'cannot watch; relying on the periodic re-check');
      }
    }
  }

  /** Debounced: many events, one check. */
  schedule(): void {
    this.queue.add();
  }

  /** The published hosts this node gets: the selection, then the line cap (reported). */
  private nodeHosts(published: PublishedHosts): readonly string[] {
    const { log, metrics } = this.options;
    const selection = selectNodeHosts(published, {
      mode: this.options.nodeHosts ?? 'auto',
      suffixes: this.options.nodeHostSuffixes ?? [],
    });
    const maxLines = this.options.maxLines ?? DEFAULT_MAX_LINES;
    const { kept, dropped } = capToLines(published.relayIP, selection.hosts, maxLines);
    metrics.droppedHosts.set(dropped);
    const signature = dropped === 0 ? '' : `${kept.length}|${dropped}`;
    if (signature !== this.capSignature) {
      this.capSignature = signature;
      if (dropped > 0) {
        log.warn(
          { mode: selection.mode, written: kept.length, notWritten: dropped, maxLines },
          `the hosts file is full: ${dropped} hosts not written (--max-lines ${maxLines}); select the hosts nodes need with the annotation ${NODE_HOSTS_ANNOTATION}: "true" or --node-host-suffix`,
        );
      }
    }
    return kept;
  }

  /** Brings the file in line with what is known (the queue runs one at a time). */
  private async sync(): Promise<WorkResult> {
    const known = this.published;
    if (known.state === 'unknown') return done();
    const { hostsFile, log, metrics } = this.options;
    const hosts = known.state === 'gone' ? [] : this.nodeHosts(known.value);
    try {
      const result = await editFileInPlace(hostsFile, (text) =>
        known.state === 'gone'
          ? applyHostsFile(text, '', [])
          : applyHostsFile(text, known.value.relayIP, hosts),
      );
      if (result === 'written') {
        metrics.writes.inc({ result: 'written' });
        log.info(
          known.state === 'gone'
            ? { hostsFile }
            : { hostsFile, relayIP: known.value.relayIP, hosts: hosts.length },
          'hosts file updated',
        );
      }
      metrics.managedHosts.set(
        managedHostsFileEntries(textFromBytes(await readFile(hostsFile))).length,
      );
      this.synced = true;
      this.lastError = undefined;
      return done();
    } catch (err) {
      // The agent stays up, not ready while it has never synced, and retries with backoff.
      this.lastError = err;
      metrics.writes.inc({ result: 'error' });
      const retryInMs = this.queue.backoffMs(this.queue.failures + 1);
      log.error({ err, hostsFile, retryInMs }, 'hosts file update failed');
      return retry();
    }
  }
}
