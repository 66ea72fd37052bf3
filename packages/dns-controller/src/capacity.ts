// Which hosts are served when they do not all fit: one ConfigMap holds at most 1 MiB, so
// past some number of hosts (which depends on the Corefile's encoding, not decided here)
// some must be left out. Which ones is decided, never left to chance: a stable,
// documented order (docs/dns-controller.md, Capacity), and the longest prefix of it whose
// edits fit in every target. Pure: the caller passes a `fits` predicate that runs the
// real edits, so this keeps working whatever the encoding.
import type { ObjectRef, SourcedHost } from '@hairpin/shared';

/**
 * kube-apiserver's limit on a ConfigMap (core.MaxSecretSize): the sum of the values of
 * `data` (UTF-8 bytes) and `binaryData` (decoded bytes), at most 1,048,576 inclusive. Keys
 * are not counted (fixtures/kube-api-conformance/03-configmap-validation.json, steps
 * "too-big" and "exactly 1 MiB").
 */
export const CONFIGMAP_MAX_BYTES = 1_048_576;

/** A ConfigMap's data as the API server counts it against CONFIGMAP_MAX_BYTES. */
export function configMapSize(data: Readonly<Record<string, string>> | undefined): number {
  let size = 0;
  for (const value of Object.values(data ?? {})) size += Buffer.byteLength(value);
  return size;
}

/** When each source object was created (ISO 8601), undefined if unknown. */
export type CreatedAt = (ref: ObjectRef) => string | undefined;

/**
 * The serving order: each host ranks by its oldest source object (creationTimestamp,
 * then kind, namespace and name), then by name. So the hosts that were there first keep
 * being served when new ones arrive past capacity, and a tenant cannot push out older
 * hosts by adding objects. An object without a timestamp ranks last.
 */
export function servingOrder(accepted: readonly SourcedHost[], createdAt: CreatedAt): string[] {
  const rank = new Map<string, string>();
  const created = new Map<ObjectRef, string>();
  for (const { host, ref } of accepted) {
    let key = created.get(ref);
    if (key === undefined) {
      // '~' sorts after every digit: no timestamp ranks last.
      key = `${createdAt(ref) ?? '~'}\n${ref.kind}\n${ref.namespace}\n${ref.name}`;
      created.set(ref, key);
    }
    const before = rank.get(host);
    if (before === undefined || key < before) rank.set(host, key);
  }
  const hosts = [...rank.keys()];
  const keyed = hosts.map((h) => `${rank.get(h)!}\n${h}`);
  const order = hosts.map((_, i) => i).sort((a, b) => compare(keyed[a]!, keyed[b]!));
  return order.map((i) => hosts[i]!);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface CapacityChoice {
  /** The hosts to serve, sorted by name (what the edits take). */
  readonly served: readonly string[];
  /** The hosts left out, in serving order (the next to be served first). */
  readonly notServed: readonly string[];
  /** How many times `fits` ran (1 when everything fits). */
  readonly evaluations: number;
}

/**
 * The longest prefix of `ordered` for which `fits` holds (with the prefix sorted by
 * name), found with one call when everything fits, else by binary search (about
 * log2(n) + 1 calls). `fits` is assumed monotone: fewer hosts never need more bytes.
 * `allFit`: the caller already knows whether every host fits (not asked again).
 */
export function chooseServed(
  ordered: readonly string[],
  fits: (sortedHosts: readonly string[]) => boolean,
  allFit?: boolean,
): CapacityChoice {
  let evaluations = 0;
  const prefix = (n: number): string[] => ordered.slice(0, n).sort();
  const test = (hosts: readonly string[]): boolean => {
    evaluations++;
    return fits(hosts);
  };
  if (allFit !== false) {
    const all = prefix(ordered.length);
    if (allFit === true || test(all)) return { served: all, notServed: [], evaluations };
  }
  // Invariant: prefix(lo) fits (0 does: no hosts is the original file), prefix(hi) does not.
  let lo = 0;
  let hi = ordered.length;
  let best: string[] = [];
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const hosts = prefix(mid);
    if (test(hosts)) {
      lo = mid;
      best = hosts;
    } else hi = mid;
  }
  return { served: best, notServed: ordered.slice(lo), evaluations };
}
