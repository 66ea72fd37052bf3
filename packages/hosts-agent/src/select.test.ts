import { describe, expect, test } from 'vitest';
import { capToLines, selectNodeHosts } from './select.ts';

const hosts = ['a.example.com', 'registry.infra.example.com', 'sso.example.org', 'z.example.com'];

describe('selectNodeHosts', () => {
  test('auto with nothing selected: every host, as before the choice existed', () => {
    expect(selectNodeHosts({ hosts }, { mode: 'auto', suffixes: [] })).toEqual({
      hosts,
      mode: 'all',
    });
  });

  test('auto once an object is annotated: only the annotated hosts', () => {
    const published = { hosts, nodeHosts: ['sso.example.org'] };
    expect(selectNodeHosts(published, { mode: 'auto', suffixes: [] })).toEqual({
      hosts: ['sso.example.org'],
      mode: 'selected',
    });
    // An annotation key with no host left (none served) still selects: nothing.
    expect(selectNodeHosts({ hosts, nodeHosts: [] }, { mode: 'auto', suffixes: [] }).hosts).toEqual(
      [],
    );
  });

  test('suffixes select the hosts under them (and the suffix itself), with the annotated ones', () => {
    const published = { hosts, nodeHosts: ['sso.example.org'] };
    expect(
      selectNodeHosts(published, { mode: 'auto', suffixes: ['infra.example.com'] }).hosts,
    ).toEqual(['registry.infra.example.com', 'sso.example.org']);
    expect(
      selectNodeHosts({ hosts }, { mode: 'selected', suffixes: ['registry.infra.example.com'] })
        .hosts,
    ).toEqual(['registry.infra.example.com']);
  });

  test('all ignores the selection; selected with nothing selected writes nothing', () => {
    const published = { hosts, nodeHosts: ['sso.example.org'] };
    expect(selectNodeHosts(published, { mode: 'all', suffixes: ['x.org'] }).hosts).toEqual(hosts);
    expect(selectNodeHosts({ hosts }, { mode: 'selected', suffixes: [] }).hosts).toEqual([]);
  });
});

describe('capToLines', () => {
  const many = Array.from(
    { length: 500 },
    (_, i) => `host-${String(i).padStart(3, '0')}.example.com`,
  );

  test('under the cap: every host, wildcards left out', () => {
    expect(capToLines('10.96.0.50', ['*.example.com', 'a.example.com'], 1)).toEqual({
      kept: ['a.example.com'],
      dropped: 0,
    });
  });

  test('over the cap: the hosts of the first lines in name order, and how many are left out', () => {
    const { kept, dropped } = capToLines('10.96.0.50', many, 3);
    expect(kept.length + dropped).toBe(500);
    expect(dropped).toBeGreaterThan(0);
    expect(kept).toEqual(many.slice(0, kept.length));
    // Exactly three lines' worth: one more line would hold more.
    expect(capToLines('10.96.0.50', many, 4).kept.length).toBeGreaterThan(kept.length);
  });
});
