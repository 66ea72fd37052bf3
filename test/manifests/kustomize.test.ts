// `kubectl apply -k`: what kustomize renders from manifests/ (the base), from the base
// with every component, and from the example overlay (examples/kustomize) has the same
// safety properties as the files (properties.ts), and the overlay's settings land.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import {
  describeManifestProperties,
  lookups,
  manifestFiles,
  manifestsDir,
  parseYaml,
  type Doc,
  type Obj,
} from './properties.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));

// kubectl (with its kustomize) cannot be installed from Debian's packages at a version
// that knows components and replacements, so where it is missing this file skips.
const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const kubectlMissing =
  kubectl.status === 0 ? undefined : 'kubectl is not installed: kustomize tests skipped';
if (kubectlMissing !== undefined) process.stderr.write(`manifests: ${kubectlMissing}\n`);

function render(dir: string, label = `kubectl kustomize ${relative(repo, dir)}`): Doc[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir}: ${r.stderr}`);
  const errors: string[] = [];
  const docs = parseYaml(r.stdout, label, errors);
  if (errors.length > 0) throw new Error(errors.join('\n'));
  return docs;
}

const key = (o: Obj) =>
  `${o['kind']} ${o['metadata']['namespace'] ?? '-'}/${o['metadata']['name']}`;
const byKey = (docs: readonly Doc[]) =>
  Object.fromEntries(docs.map((d) => [key(d.obj), d.obj] as const));
const files = manifestFiles().docs;
const filesIn = (...dirs: string[]) =>
  files.filter((d) => dirs.includes(d.file.includes('/') ? d.file.split('/')[0]! : ''));

// An overlay of the base with every component and no settings, written inside the repo
// (kustomize refuses absolute paths and directories that contain the overlay).
const tmp = join(repo, '.tmp');
mkdirSync(tmp, { recursive: true });
const everything = mkdtempSync(join(tmp, 'kustomize-'));
afterAll(() => rmSync(everything, { recursive: true, force: true }));
const up = relative(everything, manifestsDir);
writeFileSync(
  join(everything, 'kustomization.yaml'),
  [
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    `resources: [${up}]`,
    `components: [${['hosts-agent', 'monitoring', 'cleanup'].map((c) => `${up}/${c}`).join(', ')}]`,
    '',
  ].join('\n'),
);

const ALL = 'kubectl kustomize manifests/ + components';

describe.skipIf(kubectlMissing !== undefined)('kubectl kustomize', () => {
  const base = kubectlMissing ? [] : render(manifestsDir);
  const all = kubectlMissing ? [] : render(everything, ALL);
  const example = kubectlMissing ? [] : render(join(repo, 'examples/kustomize'));

  test('apply -k manifests/ applies exactly what apply -f manifests/ does', () => {
    expect(byKey(base)).toEqual(byKey(filesIn('')));
  });

  test('the components add exactly the files of their directories, and the dashboard', () => {
    const dashboard = lookups(all).named('ConfigMap', 'hairpin-dashboard');
    expect(dashboard?.['metadata']['labels']).toEqual({
      'app.kubernetes.io/part-of': 'hairpin',
      grafana_dashboard: '1',
    });
    expect(dashboard?.['data']['hairpin.json']).toBe(
      readFileSync(join(manifestsDir, 'monitoring/dashboards/hairpin.json'), 'utf8'),
    );
    const { [key(dashboard!)]: _, ...rest } = byKey(all);
    expect(rest).toEqual(byKey(filesIn('', 'hosts-agent', 'monitoring', 'cleanup')));
  });

  describe('the example overlay', () => {
    const { named, ofKind, workloads } = lookups(example);

    test('sets the namespace of every hairpin object, and leaves the CoreDNS RBAC in kube-system', () => {
      expect(ofKind('Namespace').map((d) => d.obj['metadata']['name'])).toEqual(['hairpin-system']);
      const left = example.filter((d) => d.obj['metadata']['namespace'] === 'hairpin');
      expect(left.map((d) => key(d.obj))).toEqual([]);
      const role = named('Role', 'hairpin-dns-controller-coredns')!;
      expect(role['metadata']['namespace']).toBe('kube-system');
      const binding = named('RoleBinding', 'hairpin-dns-controller-coredns')!;
      expect(binding['metadata']['namespace']).toBe('kube-system');
      for (const b of ofKind('RoleBinding', 'ClusterRoleBinding'))
        for (const s of b.obj['subjects'] as Obj[])
          expect(s['namespace'], key(b.obj)).toBe('hairpin-system');
    });

    test('sets the image of every workload', () => {
      for (const w of workloads)
        for (const c of w.obj['spec']['template']['spec']['containers'] as Obj[])
          expect(c['image'], key(w.obj)).toBe('registry.example.com/hairpin:0.1.0');
    });

    test('sets the ingress target, and installs no settings object', () => {
      const relay = named('Deployment', 'hairpin-relay')!['spec']['template']['spec'];
      const env = (relay['containers'][0]['env'] as Obj[]).find(
        (e) => e['name'] === 'TARGET_SERVER',
      );
      expect(env?.['value']).toBe('traefik.traefik.svc.cluster.local');
      expect(named('ConfigMap', 'hairpin-settings')).toBeUndefined();
    });

    test('installs the same objects as the base with every component but the cleanup Job', () => {
      const names = (docs: readonly Doc[]) =>
        docs.map((d) => `${d.obj['kind']} ${d.obj['metadata']['name']}`).sort();
      expect(names(example)).toEqual(
        names(all.filter((d) => d.obj['kind'] !== 'Job')).map((n) =>
          n === 'Namespace hairpin' ? 'Namespace hairpin-system' : n,
        ),
      );
    });
  });

  // With kubectl missing these register nothing: the describe above is skipped.
  if (kubectlMissing === undefined) {
    describeManifestProperties(ALL, all);
    describeManifestProperties('kubectl kustomize examples/kustomize', example, 'hairpin-system');
  }
});
