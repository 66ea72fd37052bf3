import { describe, expect, test } from 'vitest';
import type { ObjectRef } from '@hairpin/shared';
import { chooseServed, CONFIGMAP_MAX_BYTES, configMapSize, servingOrder } from './capacity.ts';

const ref = (name: string, namespace = 'shop', kind = 'Ingress'): ObjectRef => ({
  apiVersion: 'networking.k8s.io/v1',
  kind,
  namespace,
  name,
});

describe('configMapSize', () => {
  test('the sum of the values in UTF-8 bytes, as kube-apiserver counts it (keys not counted)', () => {
    expect(configMapSize({ Corefile: 'abc', other: 'é' })).toBe(5);
    expect(configMapSize(undefined)).toBe(0);
    expect(CONFIGMAP_MAX_BYTES).toBe(1_048_576);
  });
});

describe('servingOrder', () => {
  test('oldest source object first, then kind/namespace/name, then host; no timestamp last', () => {
    const created: Record<string, string> = {
      old: '2020-01-01T00:00:00.000Z',
      new: '2024-01-01T00:00:00.000Z',
      same1: '2022-01-01T00:00:00.000Z',
      same2: '2022-01-01T00:00:00.000Z',
    };
    const order = servingOrder(
      [
        { host: 'z.new.example', ref: ref('new') },
        { host: 'none.example', ref: ref('undated') },
        { host: 'b.same.example', ref: ref('same2') },
        { host: 'a.same.example', ref: ref('same2') },
        { host: 'c.same.example', ref: ref('same1', 'team') },
        { host: 'q.old.example', ref: ref('old') },
        // A host on an old and a new object ranks by its oldest.
        { host: 'shared.example', ref: ref('new') },
        { host: 'shared.example', ref: ref('old') },
      ],
      (r) => created[r.name],
    );
    expect(order).toEqual([
      'q.old.example',
      'shared.example',
      'a.same.example',
      'b.same.example',
      'c.same.example',
      'z.new.example',
      'none.example',
    ]);
  });
});

describe('chooseServed', () => {
  const ordered = Array.from({ length: 1000 }, (_, i) => `h${String(999 - i).padStart(4, '0')}`);

  test('everything fits: one evaluation, every host served, sorted', () => {
    const choice = chooseServed(ordered, () => true);
    expect(choice.evaluations).toBe(1);
    expect(choice.served).toEqual([...ordered].sort());
    expect(choice.notServed).toEqual([]);
  });

  test.each([0, 1, 10, 377, 999])(
    'the longest prefix that fits (%i), by binary search',
    (capacity) => {
      const choice = chooseServed(ordered, (hosts) => hosts.length <= capacity);
      expect(choice.served).toEqual(ordered.slice(0, capacity).sort());
      expect(choice.notServed).toEqual(ordered.slice(capacity));
      expect(choice.evaluations).toBeLessThanOrEqual(Math.ceil(Math.log2(ordered.length)) + 1);
    },
  );

  test('fits sees the prefix sorted by name, as the edits take it', () => {
    const seen: string[][] = [];
    chooseServed(ordered, (hosts) => {
      seen.push([...hosts]);
      return hosts.length < 500;
    });
    for (const hosts of seen) expect(hosts).toEqual([...hosts].sort());
  });
});
