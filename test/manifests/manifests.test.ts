// The manifests as `kubectl apply -f` reads them: every file parses, the layout works
// with -f, and the safety properties (properties.ts) hold.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { expect, test } from 'vitest';
import {
  describeManifestProperties,
  lookups,
  manifestFiles,
  manifestsDir as root,
  type Obj,
} from './properties.ts';

const { docs, parseErrors } = manifestFiles();
const { named } = lookups(docs);

test('every file parses, every document has a kind and a name', () => {
  expect(parseErrors, 'YAML errors').toEqual([]);
  expect(docs.length).toBeGreaterThan(10);
  for (const d of docs) {
    expect(d.obj['apiVersion'], d.file).toBeTruthy();
    expect(d.obj['kind'], d.file).toBeTruthy();
    expect(d.obj['metadata']?.['name'], `${d.file}: ${d.obj['kind']}`).toBeTruthy();
  }
});

test('kubectl apply -f manifests/ creates the Namespace first', () => {
  const top = readdirSync(root)
    .filter((n) => /\.ya?ml$/.test(n))
    .sort();
  const first = parseAllDocuments(readFileSync(join(root, top[0]!), 'utf8'))[0]!.toJS() as Obj;
  expect(first['kind'], top[0]).toBe('Namespace');
  expect(first['metadata']['name'], top[0]).toBe('hairpin');
});

test('every optional part is there, each in its own directory', () => {
  const fileOf = (kind: string, name: string) =>
    docs.find((d) => d.obj['kind'] === kind && d.obj['metadata']['name'] === name)?.file;
  expect(fileOf('DaemonSet', 'hairpin-hosts-agent')).toMatch(/^hosts-agent\//);
  expect(fileOf('PodMonitor', 'hairpin')).toMatch(/^monitoring\//);
  expect(fileOf('PrometheusRule', 'hairpin')).toMatch(/^monitoring\//);
  // Not in the top directory: `kubectl apply -f manifests/` must not run it.
  expect(fileOf('Job', 'hairpin-cleanup')).toMatch(/^cleanup\//);
  expect(named('Job', 'hairpin-cleanup')).toBeDefined();
});

test('kubectl apply -f DIR reads only objects: kustomizations and dashboards are out of its way', () => {
  // kubectl apply -f DIR reads every .yaml, .yml and .json file of DIR (not recursing), and
  // fails on one that is not an object: such files are named Kustomization, or sit deeper.
  for (const dir of ['', 'hosts-agent', 'monitoring', 'cleanup']) {
    const read = readdirSync(join(root, dir)).filter((n) => /\.(ya?ml|json)$/.test(n));
    for (const name of read) {
      const text = readFileSync(join(root, dir, name), 'utf8');
      for (const d of parseAllDocuments(text)) {
        const obj = d.toJS() as Obj | null;
        expect(obj?.['kind'], join(dir, name)).not.toMatch(/^(Kustomization|Component)$/);
        expect(obj?.['metadata']?.['name'], join(dir, name)).toBeTruthy();
      }
    }
  }
});

describeManifestProperties('kubectl apply -f manifests/', docs);
