// The manifests' safety properties, asserted on a set of objects: the files that
// `kubectl apply -f` reads (manifests.test.ts) or what `kubectl kustomize` renders
// (kustomize.test.ts), so that a change that weakens them fails either way.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { describe, expect, test } from 'vitest';

export type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One object and where it came from (a file, or the kustomization that rendered it). */
export interface Doc {
  readonly file: string;
  readonly obj: Obj;
}

const dockerfileUrl = new URL('../../Dockerfile', import.meta.url);
export const manifestsDir = fileURLToPath(new URL('../../manifests/', import.meta.url));

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

/** Every document of every YAML file under manifests/, and the YAML errors met. */
export function manifestFiles(): { docs: Doc[]; parseErrors: string[] } {
  const parseErrors: string[] = [];
  const docs = yamlFiles(manifestsDir).flatMap((path) => {
    const file = relative(manifestsDir, path);
    return parseYaml(readFileSync(path, 'utf8'), file, parseErrors);
  });
  return { docs, parseErrors };
}

/** The objects of a multi-document YAML text; errors and warnings go to `errors`. */
export function parseYaml(text: string, file: string, errors: string[]): Doc[] {
  return parseAllDocuments(text).flatMap((d, i) => {
    for (const e of [...d.errors, ...d.warnings]) errors.push(`${file} #${i}: ${e.message}`);
    if (d.errors.length > 0) return [];
    const obj = d.toJS() as Obj | null;
    return obj ? [{ file, obj }] : [];
  });
}

export function lookups(docs: readonly Doc[]) {
  const ofKind = (...kinds: string[]) => docs.filter((d) => kinds.includes(d.obj['kind']));
  return {
    ofKind,
    named: (kind: string, name: string) =>
      ofKind(kind).find((d) => d.obj['metadata']['name'] === name)?.obj,
    workloads: ofKind('Deployment', 'DaemonSet', 'Job'),
    label: (d: Doc) => `${d.file}: ${d.obj['kind']} ${d.obj['metadata']['name']}`,
  };
}

/**
 * Registers the property tests for `docs`, whose hairpin objects live in `namespace`.
 * The optional parts' tests (hosts agent, cleanup Job, PodMonitor) run when they are there.
 */
export function describeManifestProperties(
  source: string,
  docs: readonly Doc[],
  namespace = 'hairpin',
): void {
  const { ofKind, named, workloads, label } = lookups(docs);

  test(`namespaced objects live in ${namespace} (RBAC for CoreDNS: kube-system)`, () => {
    const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding'];
    for (const d of docs) {
      const ns = d.obj['metadata']['namespace'];
      if (clusterScoped.includes(d.obj['kind'])) expect(ns, label(d)).toBeUndefined();
      else if (['Role', 'RoleBinding'].includes(d.obj['kind']))
        expect([namespace, 'kube-system'], label(d)).toContain(ns);
      else expect(ns, label(d)).toBe(namespace);
    }
  });

  describe.each(workloads.map((w) => [label(w), w] as const))('%s', (_name, w) => {
    const pod = w.obj['spec']['template'];
    const spec = pod['spec'];
    const isAgent = w.obj['kind'] === 'DaemonSet';

    const at = label(w);

    test('no host namespaces', () => {
      for (const k of ['hostNetwork', 'hostPID', 'hostIPC'])
        expect(spec[k], `${at}: spec.${k}`).toBeFalsy();
    });

    test('pod labels: name and part-of', () => {
      const labels = pod['metadata']['labels'] ?? {};
      expect(labels['app.kubernetes.io/name'], `${at}: app.kubernetes.io/name`).toBeTruthy();
      expect(labels['app.kubernetes.io/part-of'], `${at}: app.kubernetes.io/part-of`).toBe(
        'hairpin',
      );
    });

    test('pod defaults: non-root, RuntimeDefault seccomp', () => {
      const psc = spec['securityContext'] ?? {};
      expect(psc['runAsNonRoot'], `${at}: pod runAsNonRoot`).toBe(true);
      expect(psc['runAsUser'], `${at}: pod runAsUser`).toBe(65532);
      expect(psc['runAsGroup'], `${at}: pod runAsGroup`).toBe(65532);
      expect(psc['seccompProfile']?.['type'], `${at}: pod seccompProfile`).toBe('RuntimeDefault');
    });

    const containers = [...(spec['initContainers'] ?? []), ...spec['containers']].map(
      (c: Obj) => [c['name'] as string, c] as const,
    );
    test.each(containers)('container %s is locked down', (name, c) => {
      const m = (what: string) => `${at}, container ${name}: ${what}`;
      const sc = c['securityContext'] ?? {};
      expect(sc['readOnlyRootFilesystem'], m('readOnlyRootFilesystem')).toBe(true);
      expect(sc['allowPrivilegeEscalation'], m('allowPrivilegeEscalation')).toBe(false);
      expect(sc['privileged'] ?? false, m('privileged')).toBe(false);
      expect(sc['capabilities']?.['drop'], m('capabilities.drop')).toContain('ALL');
      expect(sc['capabilities']?.['add'] ?? [], m('capabilities.add')).toEqual([]);
      const seccomp =
        sc['seccompProfile']?.['type'] ?? spec['securityContext']?.['seccompProfile']?.['type'];
      expect(seccomp, m('seccompProfile')).toBe('RuntimeDefault');
      const nonRoot = sc['runAsNonRoot'] ?? spec['securityContext']?.['runAsNonRoot'];
      const uid = sc['runAsUser'] ?? spec['securityContext']?.['runAsUser'];
      if (isAgent) {
        // The one exception: root to write the node's root-owned file, nothing else.
        expect(sc['runAsUser'], m('runAsUser')).toBe(0);
        expect(sc['runAsNonRoot'], m('runAsNonRoot')).toBe(false);
      } else {
        expect(nonRoot, m('runAsNonRoot')).toBe(true);
        expect(uid, m('runAsUser')).not.toBe(0);
      }
      for (const kind of ['requests', 'limits']) {
        expect(c['resources']?.[kind]?.['cpu'], m(`resources.${kind}.cpu`)).toBeTruthy();
        expect(c['resources']?.[kind]?.['memory'], m(`resources.${kind}.memory`)).toBeTruthy();
      }
      // A registry path and a version tag (not latest, not a bare name).
      expect(c['image'], m('image')).toMatch(/^[\w.-]+(\/[\w.-]+)+:v?\d+\.\d+\.\d+$/);
      if (w.obj['kind'] !== 'Job') {
        expect(c['livenessProbe']?.['httpGet'], m('livenessProbe')).toEqual({
          path: '/healthz',
          port: 'admin',
        });
        expect(c['readinessProbe']?.['httpGet'], m('readinessProbe')).toEqual({
          path: '/readyz',
          port: 'admin',
        });
        const admin = (c['ports'] ?? []).find((p: Obj) => p['name'] === 'admin');
        expect(admin?.['containerPort'], m('port admin')).toBe(9090);
      }
    });

    test('Prometheus annotations', () => {
      const a = pod['metadata']['annotations'] ?? {};
      expect(Object.keys(a), `${at}: annotations`).toEqual(
        expect.arrayContaining([
          'prometheus.io/scrape',
          'prometheus.io/port',
          'prometheus.io/path',
        ]),
      );
      expect(a['prometheus.io/port'], `${at}: prometheus.io/port`).toBe('9090');
      expect(a['prometheus.io/path'], `${at}: prometheus.io/path`).toBe('/metrics');
    });
  });

  test('one image, pinned, everywhere', () => {
    const images = new Set(
      workloads.flatMap((w) =>
        w.obj['spec']['template']['spec']['containers'].map((c: Obj) => c['image']),
      ),
    );
    expect([...images], 'images of all workloads').toHaveLength(1);
    expect([...images][0]).not.toMatch(/:latest$/);
  });

  describe('RBAC is least privilege', () => {
    const roles = ofKind('Role', 'ClusterRole');
    test.each(roles.map((r) => [label(r), r] as const))('%s', (name, r) => {
      for (const rule of r.obj['rules'] as Obj[]) {
        const m = (what: string) => `${name}: ${what} in rule ${JSON.stringify(rule)}`;
        for (const k of ['apiGroups', 'resources', 'verbs']) {
          expect(rule[k], m(k)).toBeInstanceOf(Array);
          expect(rule[k], m(`'*' in ${k}`)).not.toContain('*');
        }
        expect(rule['nonResourceURLs'], m('nonResourceURLs')).toBeUndefined();
        expect(rule['resources'], m('secrets')).not.toContain('secrets');
        for (const v of ['escalate', 'bind', 'impersonate'])
          expect(rule['verbs'], m(`verb ${v}`)).not.toContain(v);
        if (
          (rule['resources'] as string[]).includes('configmaps') ||
          (rule['resources'] as string[]).includes('leases')
        ) {
          // Only `create` cannot be limited by name.
          if (!(rule['verbs'] as string[]).every((v) => v === 'create')) {
            expect(rule['resourceNames'], m('no resourceNames')).toBeTruthy();
          }
        }
        if (r.obj['kind'] === 'ClusterRole') {
          const writes = (rule['verbs'] as string[]).filter(
            (v) => !['get', 'list', 'watch'].includes(v),
          );
          // Cluster-wide writes: Events only.
          if (writes.length > 0)
            expect(rule['resources'], m('cluster-wide write')).toEqual(['events']);
        }
      }
    });

    if (named('Role', 'hairpin-hosts-agent')) {
      test('the hosts agent reads one ConfigMap and nothing else', () => {
        const role = named('Role', 'hairpin-hosts-agent')!;
        expect(role['metadata']['namespace'], 'Role hairpin-hosts-agent').toBe(namespace);
        expect(role['rules'], `${source}: Role hairpin-hosts-agent rules`).toEqual([
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
    }

    test('the CoreDNS ConfigMap is reachable by name only', () => {
      const role = docs.find(
        (d) => d.obj['kind'] === 'Role' && d.obj['metadata']['namespace'] === 'kube-system',
      )!.obj;
      for (const rule of role['rules'] as Obj[])
        expect(rule['resourceNames'], `kube-system Role: ${JSON.stringify(rule)}`).toEqual([
          'coredns',
        ]);
    });

    test('ingresses and Gateway API routes are read-only; Events are the only cluster-wide write', () => {
      const role = named('ClusterRole', 'hairpin-dns-controller')!;
      const verbsOn = (group: string, resource: string) =>
        (role['rules'] as Obj[])
          .filter((r) => r['apiGroups'].includes(group) && r['resources'].includes(resource))
          .flatMap((r) => r['verbs'] as string[]);
      const m = (what: string) => `${source}: ClusterRole hairpin-dns-controller: ${what}`;
      expect(verbsOn('networking.k8s.io', 'ingresses').sort(), m('ingresses')).toEqual([
        'get',
        'list',
        'watch',
      ]);
      for (const res of ['gateways', 'httproutes'])
        expect(verbsOn('gateway.networking.k8s.io', res).sort(), m(res)).toEqual([
          'get',
          'list',
          'watch',
        ]);
      expect(verbsOn('', 'events'), m('events')).toEqual(['create']);
      expect(verbsOn('', 'configmaps'), m('configmaps')).toEqual([]);
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
      expect(
        svc['spec']['ports'].map((p: Obj) => [p['port'], target(p['targetPort'])]),
        `${source}: Service hairpin-relay ports`,
      ).toEqual([
        [80, 8080],
        [443, 8443],
      ]);
    });

    test('two replicas each, spread across nodes, a PDB for the relay', () => {
      for (const name of ['hairpin-relay', 'hairpin-dns-controller']) {
        const d = named('Deployment', name);
        expect(d, `Deployment ${name}`).toBeDefined();
        expect(d!['spec']['replicas'], `Deployment ${name}: replicas`).toBe(2);
        const spec = d!['spec']['template']['spec'];
        const spreadKeys = [
          ...(spec['topologySpreadConstraints'] ?? []).map((t: Obj) => t['topologyKey']),
          ...(
            spec['affinity']?.['podAntiAffinity']?.[
              'preferredDuringSchedulingIgnoredDuringExecution'
            ] ?? []
          ).map((t: Obj) => t['podAffinityTerm']['topologyKey']),
        ];
        expect(spreadKeys, `Deployment ${name}: spread or anti-affinity`).toContain(
          'kubernetes.io/hostname',
        );
        // Soft only: a one-node cluster must still run both replicas.
        for (const t of spec['topologySpreadConstraints'] ?? [])
          expect(t['whenUnsatisfiable'], `Deployment ${name}: whenUnsatisfiable`).toBe(
            'ScheduleAnyway',
          );
        expect(
          spec['affinity']?.['podAntiAffinity']?.['requiredDuringSchedulingIgnoredDuringExecution'],
          `Deployment ${name}: required anti-affinity`,
        ).toBeUndefined();
      }
      const pdb = named('PodDisruptionBudget', 'hairpin-relay');
      expect(pdb, 'PodDisruptionBudget hairpin-relay').toBeDefined();
      expect(pdb!['spec']['minAvailable'], 'PodDisruptionBudget hairpin-relay').toBe(1);
      expect(pdb!['spec']['selector']['matchLabels']).toEqual(
        named('Deployment', 'hairpin-relay')!['spec']['selector']['matchLabels'],
      );
    });

    test('the relay gets longer than its 25 s drain to stop', () => {
      const spec = named('Deployment', 'hairpin-relay')!['spec']['template']['spec'];
      expect(spec['terminationGracePeriodSeconds'], 'Deployment hairpin-relay').toBe(30);
    });

    if (named('Job', 'hairpin-cleanup')) {
      test('the cleanup Job runs `cleanup` as the dns-controller', () => {
        const job = named('Job', 'hairpin-cleanup');
        expect(job, 'Job hairpin-cleanup').toBeDefined();
        const spec = job!['spec']['template']['spec'];
        expect(spec['serviceAccountName'], 'Job hairpin-cleanup').toBe('hairpin-dns-controller');
        expect(spec['containers'][0]['command'], 'Job hairpin-cleanup').toEqual([
          '/nodejs/bin/node',
          '/app/dns-controller/main.js',
          'cleanup',
        ]);
      });
    }

    if (named('PodMonitor', 'hairpin')) {
      test('the PodMonitor scrapes every hairpin pod on port admin', () => {
        const pm = named('PodMonitor', 'hairpin');
        expect(pm, 'PodMonitor hairpin').toBeDefined();
        expect(pm!['spec']['selector']['matchLabels']).toEqual({
          'app.kubernetes.io/part-of': 'hairpin',
        });
        expect(pm!['spec']['podMetricsEndpoints']).toEqual([
          expect.objectContaining({ port: 'admin', path: '/metrics' }),
        ]);
      });
    }

    test("the Namespace's Pod Security level admits every workload in it", () => {
      const ns = named('Namespace', namespace)!;
      const enforce = ns['metadata']['labels']?.['pod-security.kubernetes.io/enforce'];
      const usesHostPath = workloads.some((w) =>
        (w.obj['spec']['template']['spec']['volumes'] ?? []).some((v: Obj) => v['hostPath']),
      );
      // baseline and restricted both refuse hostPath volumes (the hosts agent's /etc/hosts).
      if (usesHostPath) expect(enforce ?? 'privileged').toBe('privileged');
    });

    if (named('DaemonSet', 'hairpin-hosts-agent')) {
      test('the agent runs on every node and mounts only /etc/hosts, as a file', () => {
        const ds = named('DaemonSet', 'hairpin-hosts-agent')!['spec']['template']['spec'];
        expect(ds['tolerations'], 'DaemonSet hairpin-hosts-agent: tolerations').toEqual([
          { operator: 'Exists' },
        ]);
        expect(ds['volumes'], 'DaemonSet hairpin-hosts-agent: volumes').toEqual([
          { name: 'etc-hosts', hostPath: { path: '/etc/hosts', type: 'File' } },
        ]);
      });
    }

    test('the manifests run the entrypoints the Dockerfile ships', () => {
      const dockerfile = readFileSync(dockerfileUrl, 'utf8');
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
      const dockerfile = readFileSync(dockerfileUrl, 'utf8');
      const users = [...dockerfile.matchAll(/^USER\s+(\d+)/gm)].map((m) => Number(m[1]));
      expect(users.at(-1)).toBe(65532);
      const relay = named('Deployment', 'hairpin-relay')!['spec']['template']['spec'];
      expect(relay['securityContext']['runAsUser']).toBe(65532);
    });
  });
}
