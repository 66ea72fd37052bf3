// Which of the published hosts a node's file gets (issue 19: glibc reads and scans the
// whole /etc/hosts on every lookup, hit or miss: 11 us at 10 lines, 87 us at 1,000, 1.9 ms
// at 20,000, paid by every host process and hostNetwork pod). Nodes need few names (an
// in-cluster registry, an OIDC issuer); pods resolve through CoreDNS. Pure.
import { MANAGED_MARKER, managedHostsLines, type PublishedHosts } from '@hairpin/shared';

export const NODE_HOSTS_MODES = ['auto', 'selected', 'all'] as const;
export type NodeHostsMode = (typeof NODE_HOSTS_MODES)[number];

/** About 2,000 names (each line holds as many as fit in 512 bytes): ~0.2 ms per lookup. */
export const DEFAULT_MAX_LINES = 100;

export interface NodeSelection {
  /** What the node's file gets, before the line cap. */
  readonly hosts: readonly string[];
  /** The mode in effect (auto resolved). */
  readonly mode: 'selected' | 'all';
}

/**
 * all: every published host. selected: the hosts whose object is annotated
 * `hairpin.dev/node-hosts: "true"` (published as nodeHosts) and those under a
 * `--node-host-suffix`. auto (the default): selected once anything is selected (an
 * annotated object exists, or a suffix is given), else all, as before the choice existed:
 * a small cluster that upgrades keeps every node entry it relied on.
 */
export function selectNodeHosts(
  published: Pick<PublishedHosts, 'hosts' | 'nodeHosts'>,
  options: { readonly mode: NodeHostsMode; readonly suffixes: readonly string[] },
): NodeSelection {
  const selecting =
    options.mode === 'selected' ||
    (options.mode === 'auto' && (published.nodeHosts !== undefined || options.suffixes.length > 0));
  if (!selecting) return { hosts: published.hosts, mode: 'all' };
  const annotated = new Set(published.nodeHosts ?? []);
  const under = (h: string) => options.suffixes.some((s) => h === s || h.endsWith(`.${s}`));
  return { hosts: published.hosts.filter((h) => annotated.has(h) || under(h)), mode: 'selected' };
}

/**
 * The hosts that fit in `maxLines` managed lines (in name order, as the file lists them),
 * and how many do not. Wildcards never reach a hosts file and do not count.
 */
export function capToLines(
  ip: string,
  hosts: readonly string[],
  maxLines: number,
): { readonly kept: readonly string[]; readonly dropped: number } {
  const plain = hosts.filter((h) => !h.startsWith('*.')).sort();
  const lines = managedHostsLines(ip, plain, '\n');
  if (lines.length <= maxLines) return { kept: plain, dropped: 0 };
  // `IP host... # managed by hairpin`: the words that are not hosts.
  const notHosts = 1 + MANAGED_MARKER.split(' ').length;
  let n = 0;
  for (const line of lines.slice(0, maxLines)) n += line.split(' ').length - notHosts;
  return { kept: plain.slice(0, n), dropped: plain.length - n };
}
