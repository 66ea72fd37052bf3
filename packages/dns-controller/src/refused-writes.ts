// Writes the API server refused as invalid (422 Invalid: over 1 MiB, a bad key; 413: a
// request too large): sending the same content to the same version again cannot succeed,
// so it is not sent until the content or the ConfigMap changes. Without this, a refused
// full-size Corefile was rebuilt and sent again at every backoff step, forever.
import { createHash } from 'node:crypto';
import { apiStatus } from '@hairpin/shared/runtime';
import type { ConfigMapWrite } from './plan.ts';

/** 422 Invalid, 413 Request Entity Too Large: the request itself is refused. */
export function isInvalid(err: unknown): boolean {
  const status = apiStatus(err);
  return status === 422 || status === 413;
}

/** What makes a write the same write: the version it starts from and its content. */
function signature(w: Pick<ConfigMapWrite, 'current' | 'data'>): string {
  const hash = createHash('sha256');
  for (const [k, v] of Object.entries(w.data).sort(([a], [b]) => (a < b ? -1 : 1))) {
    hash.update(`${k}\0${v}\0`);
  }
  return `${w.current?.metadata?.resourceVersion ?? ''}|${hash.digest('hex')}`;
}

const where = (w: Pick<ConfigMapWrite, 'target'>) => `${w.target.namespace}/${w.target.name}`;

export class RefusedWrites {
  private readonly refused = new Map<string, { signature: string; error: unknown }>();

  /** The error this same write got before, or undefined if it was not refused. */
  refusal(w: Pick<ConfigMapWrite, 'target' | 'current' | 'data'>): unknown {
    const entry = this.refused.get(where(w));
    if (entry === undefined) return undefined;
    if (entry.signature === signature(w)) return entry.error;
    this.refused.delete(where(w));
    return undefined;
  }

  remember(w: Pick<ConfigMapWrite, 'target' | 'current' | 'data'>, error: unknown): void {
    this.refused.set(where(w), { signature: signature(w), error });
  }

  forget(w: Pick<ConfigMapWrite, 'target'>): void {
    this.refused.delete(where(w));
  }
}
