// The manifests' safety properties, asserted, so that a change that weakens them fails.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../../manifests/', import.meta.url));

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

const docs: { file: string; obj: Obj }[] = yamlFiles(root).flatMap((path) => {
  const file = relative(root, path);
  return parseAllDocuments(readFileSync(path, 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return { file, obj: d.toJS() as Obj };
  });
});
const ofKind = (...kinds: string[]) => docs.filter((d) => kinds.includes(d.obj['kind']));
const named = (kind: string, name: string) =>
  ofKind(kind).find((d) => d.obj['metadata']['name'] === name)?.obj;
const workloads = ofKind('Deployment', 'DaemonSet', 'Job');
const label = (d: { file: string; obj: Obj }) =>
  `${d.file}: ${d.obj['kind']} ${d.obj['metadata']['name']}`;

test('every file parses, every document has a kind and a name', () => {
  expect(docs.length).toBeGreaterThan(10);
  for (const d of docs) {
    expect(d.obj['kind'], d.file).toBeTruthy();
    expect(d.obj['metadata']?.['name'], d.file).toBeTruthy();
  }
});

test('kubectl apply -f manifests/ creates the Namespace first', () => {
  const top = readdirSync(root)
    .filter((n) => /\.ya?ml$/.test(n))
    .sort();
  const first = parseAllDocuments(readFileSync(join(root, top[0]!), 'utf8'))[0]!.toJS() as Obj;
  expect(first['kind']).toBe('Namespace');
  expect(first['metadata']['name']).toBe('hairpin');
});

describe.each(workloads.map((w) => [label(w), w] as const))('%s', (_name, w) => {
  const pod = w.obj['spec']['template'];
  const spec = pod['spec'];
  const isAgent = w.obj['kind'] === 'DaemonSet';

  test('no host namespaces', () => {
    for (const k of ['hostNetwork', 'hostPID', 'hostIPC']) expect(spec[k], k).toBeFalsy();
  });

  const containers = (spec['containers'] as Obj[]).map((c) => [c['name'] as string, c] as const);
  test.each(containers)('container %s is locked down', (_c, c) => {
    const sc = c['securityContext'] ?? {};
    expect(sc['readOnlyRootFilesystem']).toBe(true);
    expect(sc['allowPrivilegeEscalation']).toBe(false);
    expect(sc['privileged'] ?? false).toBe(false);
    expect(sc['capabilities']?.['drop']).toContain('ALL');
    expect(sc['capabilities']?.['add'] ?? []).toEqual([]);
    const seccomp =
      sc['seccompProfile']?.['type'] ?? spec['securityContext']?.['seccompProfile']?.['type'];
    expect(seccomp).toBe('RuntimeDefault');
    const nonRoot = sc['runAsNonRoot'] ?? spec['securityContext']?.['runAsNonRoot'];
    if (isAgent) {
      // The one exception: root to write the node's root-owned file, nothing else.
      expect(sc['runAsUser']).toBe(0);
    } else {
      expect(nonRoot).toBe(true);
      expect(sc['runAsUser'] ?? spec['securityContext']?.['runAsUser']).not.toBe(0);
    }
    for (const kind of ['requests', 'limits']) {
      expect(c['resources']?.[kind]?.['cpu'], `${kind}.cpu`).toBeTruthy();
      expect(c['resources']?.[kind]?.['memory'], `${kind}.memory`).toBeTruthy();
    }
    expect(c['image']).toMatch(/^[\w.-]+(\/[\w.-]+)+:\d+\.\d+\.\d+$/);
    if (w.obj['kind'] !== 'Job') {
      expect(c['livenessProbe']?.['httpGet']).toEqual({ path: '/healthz', port: 'admin' });
      expect(c['readinessProbe']?.['httpGet']).toEqual({ path: '/readyz', port: 'admin' });
      expect(c['ports'].find((p: Obj) => p['name'] === 'admin')?.['containerPort']).toBe(9090);
    }
  });

  test('Prometheus annotations', () => {
    const a = pod['metadata']['annotations'] ?? {};
    expect(Object.keys(a)).toEqual(
      expect.arrayContaining(['prometheus.io/scrape', 'prometheus.io/port', 'prometheus.io/path']),
    );
    expect(a['prometheus.io/port']).toBe('9090');
    expect(a['prometheus.io/path']).toBe('/metrics');
  });
});

test('one image, pinned, everywhere', () => {
  const images = new Set(
    workloads.flatMap((w) =>
      w.obj['spec']['template']['spec']['containers'].map((c: Obj) => c['image']),
    ),
  );
  expect(images.size).toBe(1);
  expect([...images][0]).not.toMatch(/:latest$/);
});

describe('RBAC is least privilege', () => {
  const roles = ofKind('Role', 'ClusterRole');
  test.each(roles.map((r) => [label(r), r] as const))('%s', (_n, r) => {
    for (const rule of r.obj['rules'] as Obj[]) {
      for (const k of ['apiGroups', 'resources', 'verbs']) expect(rule[k], k).not.toContain('*');
      expect(rule['resources']).not.toContain('secrets');
      if (
        (rule['resources'] as string[]).includes('configmaps') ||
        (rule['resources'] as string[]).includes('leases')
      ) {
        // Only `create` cannot be limited by name.
        if (!(rule['verbs'] as string[]).every((v) => v === 'create')) {
          expect(rule['resourceNames'], JSON.stringify(rule)).toBeTruthy();
        }
      }
      if (r.obj['kind'] === 'ClusterRole') {
        const writes = (rule['verbs'] as string[]).filter(
          (v) => !['get', 'list', 'watch'].includes(v),
        );
        // Cluster-wide writes: Events only.
        if (writes.length > 0) expect(rule['resources']).toEqual(['events']);
      }
    }
  });

  test('the hosts agent reads one ConfigMap and nothing else', () => {
    const role = named('Role', 'hairpin-hosts-agent')!;
    expect(role['metadata']['namespace']).toBe('hairpin');
    expect(role['rules']).toEqual([
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: ['hairpin-hosts'],
        verbs: ['get', 'list', 'watch'],
      },
    ]);
    expect(
      ofKind('ClusterRoleBinding').some((b) =>
        b.obj['subjects'].some((s: Obj) => s['name'] === 'hairpin-hosts-agent'),
      ),
    ).toBe(false);
  });

  test('the CoreDNS ConfigMap is reachable by name only', () => {
    const role = docs.find(
      (d) => d.obj['kind'] === 'Role' && d.obj['metadata']['namespace'] === 'kube-system',
    )!.obj;
    for (const rule of role['rules'] as Obj[]) expect(rule['resourceNames']).toEqual(['coredns']);
  });

  test('ingresses and Gateway API routes are read-only; Events are the only cluster-wide write', () => {
    const role = named('ClusterRole', 'hairpin-dns-controller')!;
    const verbsOn = (group: string, resource: string) =>
      (role['rules'] as Obj[])
        .filter((r) => r['apiGroups'].includes(group) && r['resources'].includes(resource))
        .flatMap((r) => r['verbs'] as string[]);
    expect(verbsOn('networking.k8s.io', 'ingresses').sort()).toEqual(['get', 'list', 'watch']);
    for (const res of ['gateways', 'httproutes'])
      expect(verbsOn('gateway.networking.k8s.io', res).sort()).toEqual(['get', 'list', 'watch']);
    expect(verbsOn('', 'events')).toEqual(['create']);
    expect(verbsOn('', 'configmaps')).toEqual([]);
  });

  test('the relay has no API access at all', () => {
    expect(named('ServiceAccount', 'hairpin-relay')!['automountServiceAccountToken']).toBe(false);
    expect(
      named('Deployment', 'hairpin-relay')!['spec']['template']['spec'][
        'automountServiceAccountToken'
      ],
    ).toBe(false);
  });
});

describe('availability and wiring', () => {
  test('Service hairpin-relay maps 80->8080 and 443->8443', () => {
    const svc = named('Service', 'hairpin-relay')!;
    const relay = named('Deployment', 'hairpin-relay')!;
    const ports = relay['spec']['template']['spec']['containers'][0]['ports'] as Obj[];
    const target = (name: string) => ports.find((p) => p['name'] === name)?.['containerPort'];
    expect(svc['spec']['ports'].map((p: Obj) => [p['port'], target(p['targetPort'])])).toEqual([
      [80, 8080],
      [443, 8443],
    ]);
  });

  test('two replicas each, spread, a PDB for the relay', () => {
    for (const name of ['hairpin-relay', 'hairpin-dns-controller']) {
      const d = named('Deployment', name)!;
      expect(d['spec']['replicas']).toBe(2);
      expect(d['spec']['template']['spec']['topologySpreadConstraints'][0]['topologyKey']).toBe(
        'kubernetes.io/hostname',
      );
    }
    expect(named('PodDisruptionBudget', 'hairpin-relay')!['spec']['minAvailable']).toBe(1);
  });

  test("the Namespace's Pod Security level admits every workload in it", () => {
    const ns = named('Namespace', 'hairpin')!;
    const enforce = ns['metadata']['labels']?.['pod-security.kubernetes.io/enforce'];
    const usesHostPath = workloads.some((w) =>
      (w.obj['spec']['template']['spec']['volumes'] ?? []).some((v: Obj) => v['hostPath']),
    );
    // baseline and restricted both refuse hostPath volumes (the hosts agent's /etc/hosts).
    if (usesHostPath) expect(enforce ?? 'privileged').toBe('privileged');
  });

  test('the agent runs on every node and mounts only /etc/hosts, as a file', () => {
    const ds = named('DaemonSet', 'hairpin-hosts-agent')!['spec']['template']['spec'];
    expect(ds['tolerations']).toEqual([{ operator: 'Exists' }]);
    expect(ds['volumes']).toEqual([
      { name: 'etc-hosts', hostPath: { path: '/etc/hosts', type: 'File' } },
    ]);
  });

  test('the manifests run the entrypoints the Dockerfile ships', () => {
    const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
    for (const w of workloads) {
      const [node, script] = w.obj['spec']['template']['spec']['containers'][0][
        'command'
      ] as string[];
      expect(node).toBe('/nodejs/bin/node');
      const copied = dockerfile
        .split('\n')
        .filter((l) => l.startsWith('COPY --from=build '))
        .map((l) => l.split(/\s+/).at(-1));
      expect(copied).toContain(script);
    }
  });

  test('the image runs as a non-root user, the uid the manifests assume', () => {
    const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
    const users = [...dockerfile.matchAll(/^USER\s+(\d+)/gm)].map((m) => Number(m[1]));
    expect(users.at(-1)).toBe(65532);
    const relay = named('Deployment', 'hairpin-relay')!['spec']['template']['spec'];
    expect(relay['securityContext']['runAsUser']).toBe(65532);
  });
});
