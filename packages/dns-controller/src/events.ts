// Kubernetes Events on the objects hairpin acts on or refuses (a tenant's Ingress with a
// hostile host, the CoreDNS ConfigMap it cannot edit). Deduplicated: the same event on the
// same object is recorded again only after a quiet period, and memory stays bounded.
// Never throws into the caller: a failed Event is logged, nothing more.
import type { CoreV1Api } from '@kubernetes/client-node';
import type { ObjectRef } from '@hairpin/shared';
import type { Logger } from '@hairpin/shared/runtime';
import { EVENT_MEMORY, EVENT_REPEAT_AFTER_MS } from './constants.ts';

export interface EventRecorder {
  warn(ref: ObjectRef, reason: string, message: string): void;
  normal(ref: ObjectRef, reason: string, message: string): void;
}

export function createEventRecorder(options: {
  api: CoreV1Api;
  component: string;
  instance: string;
  log: Logger;
  repeatAfterMs?: number;
  now?: () => number;
}): EventRecorder {
  const { api, component, instance, log } = options;
  const repeatAfter = options.repeatAfterMs ?? EVENT_REPEAT_AFTER_MS;
  const now = options.now ?? Date.now;
  const seen = new Map<string, number>();

  const record = (
    type: 'Normal' | 'Warning',
    ref: ObjectRef,
    reason: string,
    message: string,
  ): void => {
    const key = `${ref.kind}/${ref.namespace}/${ref.name}/${reason}/${message}`;
    const last = seen.get(key);
    if (last !== undefined && now() - last < repeatAfter) return;
    seen.delete(key);
    seen.set(key, now());
    if (seen.size > EVENT_MEMORY) seen.delete(seen.keys().next().value!);
    const namespace = ref.namespace === '' ? 'default' : ref.namespace;
    const time = new Date(now());
    api
      .createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${ref.name}.hairpin-`, namespace },
          involvedObject: {
            apiVersion: ref.apiVersion,
            kind: ref.kind,
            name: ref.name,
            namespace: ref.namespace,
            ...(ref.uid === undefined ? {} : { uid: ref.uid }),
          },
          reason,
          message: message.slice(0, 1024),
          type,
          count: 1,
          firstTimestamp: time,
          lastTimestamp: time,
          source: { component },
          reportingComponent: component,
          reportingInstance: instance,
        },
      })
      .catch((err: unknown) =>
        log.warn(
          { err, reason, object: `${ref.kind} ${namespace}/${ref.name}` },
          'could not record an Event',
        ),
      );
  };
  return {
    warn: (ref, reason, message) => record('Warning', ref, reason, message),
    normal: (ref, reason, message) => record('Normal', ref, reason, message),
  };
}
