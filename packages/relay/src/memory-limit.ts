// The container's memory limit, and what the relay does with it (docs/relay.md, "Memory"):
// - the default --max-connections is lowered to the connections that fit at an idle
//   connection's cost, as it is to what the open-file limit allows (run.ts);
// - while the cgroup's working set (memory in use, socket buffers included, minus the
//   inactive file pages the kernel would reclaim first) is within MEMORY_HEADROOM of the limit, new
//   connections are refused and counted (`rejected_limit`): a flood, or many connections
//   whose peers stopped reading, stops growing the relay before the kernel OOM-kills the
//   pod with every connection in it.
// A connection's memory depends on its state: 6-10 KiB idle, about 300 KiB with both
// directions stalled at their buffers' limits. Reserving the worst case for each
// (as a first version did: 384 KiB) held the manifest's 256 MiB to about 410 connections,
// and refused a normal load of idle keep-alive connections; the working set measures what
// the connections actually hold.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Memory one idle relayed connection holds, with margin: two sockets with their stream
 * state and handles, the Connection. Measured: 6.4 KiB of RSS per connection over 4,000
 * idle connections, 10 KiB in earlier builds.
 */
export const MEMORY_PER_IDLE_CONNECTION = 16 * 1024;

/**
 * Kept free of connections: the young generation, old-space growth, admin scrapes, and
 * what connections accepted between two checks of the working set (one sweep period, at
 * most a second) can add.
 */
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

/** A cgroup's memory limit, and where to read how much of it is in use. */
export interface CgroupMemory {
  /** Bytes: v2 `memory.max`, v1 `memory.limit_in_bytes`. */
  readonly limit: number;
  /** The cgroup's folder, and its version's file names. */
  readonly dir: string;
  readonly v2: boolean;
}

/**
 * The memory limit of this process's cgroup (bytes: cgroup v2 `memory.max`, or v1
 * `memory.limit_in_bytes`) with the cgroup whose limit it is; undefined when there is none or
 * it cannot be read. The process's own cgroup is looked up first (from /proc/self/cgroup); in
 * a container with its own cgroup namespace, or v1 with the container's cgroup mounted at the
 * root, that is the mount's root. The lower counts when several are there (a nested limit).
 */
export function cgroupMemory(files?: CgroupFiles): CgroupMemory | undefined {
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
  const candidates: { dir: string; v2: boolean }[] = [];
  for (const line of selfCgroup.split('\n')) {
    // v2: "0::/path"; v1: "4:memory:/path" (controllers may be combined: "4:cpu,memory:/x").
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (m === null) continue;
    const [, controllers, path] = m as unknown as [string, string, string];
    if (controllers === '') candidates.push({ dir: join(root, path), v2: true });
    else if (controllers.split(',').includes('memory'))
      candidates.push({ dir: join(root, 'memory', path), v2: false });
  }
  candidates.push({ dir: root, v2: true }, { dir: join(root, 'memory'), v2: false });
  let best: CgroupMemory | undefined;
  for (const { dir, v2 } of candidates) {
    const limit = readLimit(join(dir, v2 ? 'memory.max' : 'memory.limit_in_bytes'));
    if (limit === undefined || !Number.isFinite(limit)) continue;
    if (best === undefined || limit < best.limit) best = { limit, dir, v2 };
  }
  return best;
}

/**
 * The cgroup's working set in bytes, as the kubelet counts it: memory in use (v2
 * `memory.current`, v1 `memory.usage_in_bytes`; socket buffers included) minus the inactive
 * file pages the kernel reclaims before it OOM-kills anything. Undefined if unreadable.
 */
export function cgroupWorkingSet(cgroup: CgroupMemory): number | undefined {
  let usage: number;
  let stat: string;
  try {
    usage = Number(
      readFileSync(
        join(cgroup.dir, cgroup.v2 ? 'memory.current' : 'memory.usage_in_bytes'),
        'utf8',
      ),
    );
    stat = readFileSync(join(cgroup.dir, 'memory.stat'), 'utf8');
  } catch {
    return undefined;
  }
  if (!Number.isFinite(usage)) return undefined;
  const key = cgroup.v2 ? 'inactive_file' : 'total_inactive_file';
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(stat);
  const inactive = m === null ? 0 : Number(m[1]);
  return Math.max(0, usage - inactive);
}

/**
 * The connections one relay process may hold within `limit` bytes at an idle connection's
 * cost, after the headroom and what the processes use before any connection (`inUse`: this
 * process's RSS now, taken as each process's). With `workers` above 1 the limit is the
 * pod's, shared by the workers and their primary. At least 1.
 */
export function connectionsForMemoryLimit(limit: number, inUse: number, workers = 1): number {
  const processes = workers > 1 ? workers + 1 : 1;
  const free = limit - inUse * processes - MEMORY_HEADROOM;
  return Math.max(1, Math.floor(free / workers / MEMORY_PER_IDLE_CONNECTION));
}
