import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import {
  cgroupMemory,
  cgroupWorkingSet,
  connectionsForMemoryLimit,
  MEMORY_HEADROOM,
  MEMORY_PER_IDLE_CONNECTION,
} from './memory-limit.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A cgroup mount with `files` (path relative to the root -> content). */
function mount(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'hairpin-cgroup-'));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

describe('cgroupMemory', () => {
  test.each([
    [
      'v2, namespaced (the pod sees its own cgroup at the root)',
      { 'memory.max': '268435456\n' },
      '0::/\n',
      268435456,
    ],
    ['v2 without a limit', { 'memory.max': 'max\n' }, '0::/\n', undefined],
    [
      'v2, the process in a nested cgroup',
      { 'kubepods/pod1/memory.max': '536870912\n' },
      '0::/kubepods/pod1\n',
      536870912,
    ],
    [
      'v2, nested and root both limited: the lower',
      { 'memory.max': '1073741824\n', 'pod/memory.max': '268435456\n' },
      '0::/pod\n',
      268435456,
    ],
    [
      'v1, the container cgroup mounted at the root',
      { 'memory/memory.limit_in_bytes': '268435456\n' },
      '4:memory:/docker/abc\n',
      268435456,
    ],
    [
      'v1, by its path',
      { 'memory/kubepods/x/memory.limit_in_bytes': '134217728\n' },
      '9:cpu,memory:/kubepods/x\n',
      134217728,
    ],
    [
      'v1 "unlimited" (a page-rounded maximum)',
      { 'memory/memory.limit_in_bytes': '9223372036854771712\n' },
      '4:memory:/\n',
      undefined,
    ],
    ['nothing readable', {}, '0::/\n', undefined],
    ['garbage', { 'memory.max': 'lots\n' }, '0::/\n', undefined],
  ])('%s', (_, files, selfCgroup, want) => {
    expect(cgroupMemory({ root: mount(files), selfCgroup })?.limit).toBe(want);
  });
});

describe('cgroupWorkingSet: in use, minus the inactive file pages', () => {
  test('v2: memory.current - inactive_file, in the cgroup whose limit counts', () => {
    const root = mount({
      'memory.max': '1073741824\n',
      'pod/memory.max': '268435456\n',
      'pod/memory.current': '104857600\n',
      'pod/memory.stat':
        'anon 60000000\nfile 40000000\nactive_file 10000000\ninactive_file 30000000\n',
    });
    const cgroup = cgroupMemory({ root, selfCgroup: '0::/pod\n' })!;
    expect(cgroup.limit).toBe(268435456);
    expect(cgroupWorkingSet(cgroup)).toBe(104857600 - 30000000);
  });

  test('v1: memory.usage_in_bytes - total_inactive_file', () => {
    const root = mount({
      'memory/memory.limit_in_bytes': '268435456\n',
      'memory/memory.usage_in_bytes': '50000000\n',
      'memory/memory.stat': 'inactive_file 1\ntotal_inactive_file 20000000\n',
    });
    const cgroup = cgroupMemory({ root, selfCgroup: '4:memory:/docker/abc\n' })!;
    expect(cgroupWorkingSet(cgroup)).toBe(30000000);
  });

  test('unreadable: unknown', () => {
    const root = mount({ 'memory.max': '268435456\n' });
    expect(cgroupWorkingSet(cgroupMemory({ root, selfCgroup: '0::/\n' })!)).toBeUndefined();
  });
});

describe('connectionsForMemoryLimit', () => {
  const MiB = 1024 * 1024;
  test.each([
    // The manifest's 256 MiB with a 70 MiB process: (256 - 70 - 32) MiB / 16 KiB, 9,856.
    [256 * MiB, 70 * MiB, 1, Math.floor((154 * MiB) / MEMORY_PER_IDLE_CONNECTION)],
    [1024 * MiB, 70 * MiB, 1, Math.floor((922 * MiB) / MEMORY_PER_IDLE_CONNECTION)],
    // Two workers and their primary share 1 GiB.
    [
      1024 * MiB,
      70 * MiB,
      2,
      Math.floor((1024 * MiB - 3 * 70 * MiB - MEMORY_HEADROOM) / 2 / MEMORY_PER_IDLE_CONNECTION),
    ],
    // Less than the process itself: still one.
    [64 * MiB, 70 * MiB, 1, 1],
  ])('%d bytes, %d in use, %d workers: %d', (limit, inUse, workers, want) => {
    expect(connectionsForMemoryLimit(limit, inUse, workers)).toBe(want);
  });
});
