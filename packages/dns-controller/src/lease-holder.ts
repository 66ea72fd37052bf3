// Who holds the controller's Lease, and whether that holder is live: holderIdentity set
// and renewTime + leaseDurationSeconds not yet past. The elector uses it to decide whether
// it may take the Lease over; `cleanup` uses it to refuse while a controller runs (a live
// controller would put the rules back within milliseconds).
import type { CoordinationV1Api, V1LeaseSpec } from '@kubernetes/client-node';
import { isNotFound } from '@hairpin/shared/runtime';

export interface LiveHolder {
  readonly identity: string;
  /** Milliseconds since the holder last renewed (0 if its clock is ahead of ours). */
  readonly renewedAgoMs: number;
}

/** The live holder of a Lease with this spec at `now` (ms), or undefined if there is none. */
export function liveHolder(spec: V1LeaseSpec | undefined, now: number): LiveHolder | undefined {
  const identity = spec?.holderIdentity ?? '';
  if (identity === '' || spec?.renewTime === undefined) return undefined;
  // client-node hands MicroTime fields over as the server's string; a Date works too.
  const renewed = new Date(spec.renewTime).getTime();
  if (!Number.isFinite(renewed)) return undefined;
  const durationMs = (spec.leaseDurationSeconds ?? 15) * 1000;
  if (renewed + durationMs < now) return undefined;
  return { identity, renewedAgoMs: Math.max(0, now - renewed) };
}

/** Reads the Lease; undefined when it is absent, released or expired. API errors throw. */
export async function readLiveHolder(
  api: CoordinationV1Api,
  namespace: string,
  name: string,
  now: () => number = Date.now,
): Promise<LiveHolder | undefined> {
  try {
    const lease = await api.readNamespacedLease({ name, namespace });
    return liveHolder(lease.spec, now());
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The one line `cleanup` refuses with while a controller holds the Lease. */
export function runningControllerMessage(holder: LiveHolder): string {
  const seconds = Math.round(holder.renewedAgoMs / 1000);
  return `the controller is running (lease held by ${holder.identity}, renewed ${seconds} s ago): scale it to 0 first`;
}
