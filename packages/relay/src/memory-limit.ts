// The container's memory limit, and the connections that fit in it: the default
// --max-connections is lowered to this, as it is to what the open-file limit allows
// (run.ts), so that a flood of connections is refused and counted (`rejected_limit`)
// instead of growing the relay until the kernel kills the pod with every connection in it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Memory one relayed connection can hold with both directions at their buffers' limits:
 * a 64 KiB read buffer of its own, the client's and the upstream's write queues at their
 * high-water marks plus one chunk, the client's readable buffer, two sockets and their
 * handles. Measured: 337 KiB of RSS per connection over 400 connections whose peers both
 * stopped reading (RSS per idle connection: about 10 KiB). The kernel's socket buffers
 * are not in this figure (docs/relay.md, "Memory").
 */
export const MEMORY_PER_CONNECTION = 384 * 1024;

/** Kept free of connections: the young generation, old-space growth, admin scrapes. */
export const MEMORY_HEADROOM = 32 * 1024 * 1024;

/** cgroup v1 writes "no limit" as a page-rounded maximum: anything this large is none. */
const NO_LIMIT = 2 ** 60;

export interface CgroupFiles {
  /** Where the cgroup filesystems are mounted: /sys/fs/cgroup. */
  readonly root: string;
  /** The text of /proc/self/cgroup. */
  readonly selfCgroup: string;
}

function readLimit(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
  if (text === 'max') return Infinity;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) return undefined;
  return n >= NO_LIMIT ? Infinity : n;
}

/**
 * The memory limit of this process's cgroup in bytes: cgroup v2 `memory.max`, or v1
 * `memory.limit_in_bytes`; undefined when there is none or it cannot be read. The process's
 * own cgroup is looked up first (from /proc/self/cgroup); in a container with its own
 * cgroup namespace, or v1 with the container's cgroup mounted at the root, that is the
 * mount's root. The lower of the two counts when both are there (a nested limit).
 */
export function cgroupMemoryLimit(files?: CgroupFiles): number | undefined {
  let root = '/sys/fs/cgroup';
  let selfCgroup = '';
  if (files !== undefined) {
    root = files.root;
    selfCgroup = files.selfCgroup;
  } else {
    try {
      selfCgroup = readFileSync('/proc/self/cgroup', 'utf8');
    } catch {
      // no /proc: only the mount's root is looked at
    }
  }
  const candidates: string[] = [];
  for (const line of selfCgroup.split('\n')) {
    // v2: "0::/path"; v1: "4:memory:/path" (controllers may be combined: "4:cpu,memory:/x").
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (m === null) continue;
    const [, controllers, path] = m as unknown as [string, string, string];
    if (controllers === '') candidates.push(join(root, path, 'memory.max'));
    else if (controllers.split(',').includes('memory'))
      candidates.push(join(root, 'memory', path, 'memory.limit_in_bytes'));
  }
  candidates.push(join(root, 'memory.max'), join(root, 'memory', 'memory.limit_in_bytes'));
  let limit = Infinity;
  let found = false;
  for (const file of candidates) {
    const l = readLimit(file);
    if (l === undefined) continue;
    found = true;
    limit = Math.min(limit, l);
  }
  return found && Number.isFinite(limit) ? limit : undefined;
}

/**
 * The connections one relay process may hold within `limit` bytes, each at
 * MEMORY_PER_CONNECTION, after the headroom and what the processes use before any
 * connection (`inUse`: this process's RSS now, taken as each process's). With `workers`
 * above 1 the limit is the pod's, shared by the workers and their primary. At least 1.
 */
export function connectionsForMemoryLimit(limit: number, inUse: number, workers = 1): number {
  const processes = workers > 1 ? workers + 1 : 1;
  const free = limit - inUse * processes - MEMORY_HEADROOM;
  return Math.max(1, Math.floor(free / workers / MEMORY_PER_CONNECTION));
}
