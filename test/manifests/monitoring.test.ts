// manifests/monitoring: the alerts pass `promtool check rules` and their unit tests
// (alerts.promtool.yaml), each links to its runbook section, and every metric that the
// alerts and the dashboard query exists in the registries the components really build.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { parse, stringify } from 'yaml';
import { afterAll, describe, expect, test } from 'vitest';
import * as agentMetrics from '../../packages/hosts-agent/src/metrics.ts';
import * as controllerMetrics from '../../packages/dns-controller/src/metrics.ts';
import * as relayMetrics from '../../packages/relay/src/metrics.ts';
import { registerBuildInfo } from '../../packages/shared/src/runtime/build-info.ts';
import { lookups, manifestFiles, type Obj } from './properties.ts';

const { named } = lookups(manifestFiles().docs);
const rule = named('PrometheusRule', 'hairpin')!;
const alerts = (rule['spec']['groups'] as Obj[]).flatMap((g) => g['rules'] as Obj[]);
const dashboard = JSON.parse(
  readFileSync(
    new URL('../../manifests/monitoring/dashboards/hairpin.json', import.meta.url),
    'utf8',
  ),
) as Obj;
const promtoolTests = new URL('./alerts.promtool.yaml', import.meta.url);
const runbook = readFileSync(new URL('../../docs/runbook.md', import.meta.url), 'utf8');

/**
 * Metrics the alerts or the dashboard may query before the change that adds them lands:
 * listed here so that the gap shows; the last test fails as soon as one of them exists, to
 * be removed from this list. Empty: every metric queried exists.
 */
const PENDING = new Set<string>();
/** Not hairpin's: the alerts may use these (kube-state-metrics). */
const EXTERNAL = new Set([
  'kube_deployment_status_replicas_available',
  'kube_deployment_spec_replicas',
]);

/**
 * Every metric the components register, with its label names: each component's metrics
 * module exports its `create...Metrics(registry)` functions, and all of them are called.
 * Label names come from prom-client's declaration where there is one, and from the
 * samples (the relay's metrics are read at scrape time: one route with every result once
 * makes all of its labels show).
 */
interface Collected {
  readonly name: string;
  get(): Promise<{ type: unknown; values: { labels: Record<string, unknown> }[] }>;
}

async function registered(): Promise<Map<string, readonly string[]>> {
  const registry = new Registry();
  for (const module of [controllerMetrics, agentMetrics])
    for (const [name, create] of Object.entries(module))
      if (/^create\w*Metrics$/.test(name)) (create as (r: Registry) => unknown)(registry);
  relayMetrics.createRelayMetrics(registry).route('0.0.0.0:8080').results.fill(1);
  // Every component's run.ts registers it (runtime/build-info.ts).
  registerBuildInfo(registry);
  const names = new Map<string, readonly string[]>();
  for (const m of registry.getMetricsAsArray() as unknown as Collected[]) {
    const { type, values } = await m.get();
    const declared = (m as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
    const seen = values.flatMap((v) => Object.keys(v.labels));
    const labels = [...new Set([...declared, ...seen])].filter((l) => l !== 'le');
    names.set(m.name, labels);
    if (String(type) === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count'])
        names.set(`${m.name}${suffix}`, suffix === '_bucket' ? [...labels, 'le'] : labels);
  }
  return names;
}

/** The metrics an expression selects, with the label names its selector matches on. */
function selectors(expr: string): { metric: string; labels: string[] }[] {
  return [...expr.matchAll(/\b((?:hairpin|kube)_[a-z0-9_]+)(\{([^}]*)\})?/g)].map((m) => ({
    metric: m[1]!,
    labels: [...(m[3] ?? '').matchAll(/([a-z_]+)\s*(=~|!~|!=|=)/g)].map((l) => l[1]!),
  }));
}

const dashboardExprs = (dashboard['panels'] as Obj[]).flatMap((p) =>
  ((p['targets'] ?? []) as Obj[]).map((t) => ({
    panel: p['title'] as string,
    expr: t['expr'] as string,
  })),
);
const queries = [
  ...alerts.map((a) => ({ where: `alert ${a['alert']}`, expr: a['expr'] as string })),
  ...dashboardExprs.map((q) => ({ where: `dashboard panel "${q.panel}"`, expr: q.expr })),
];

const promtool = spawnSync('promtool', ['--version']).status === 0;
const promtoolMissing = promtool
  ? undefined
  : 'promtool is not installed (apt-get install prometheus): rule checks skipped';
if (promtoolMissing !== undefined && process.env['HAIRPIN_REQUIRE_PEERS'] === '1')
  throw new Error(promtoolMissing);

describe('alerts', () => {
  // promtool reads plain rule files: the PrometheusRule's spec is one.
  const dir = mkdtempSync(join(tmpdir(), 'hairpin-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'hairpin.rules.yaml'), stringify(rule['spec']));
  copyFileSync(promtoolTests, join(dir, 'alerts.promtool.yaml'));
  const run = (...args: string[]) => {
    const r = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, output: `${r.stdout}${r.stderr}` };
  };

  test('promtool check rules', (ctx) => {
    if (promtoolMissing !== undefined) ctx.skip(promtoolMissing);
    const r = run('check', 'rules', 'hairpin.rules.yaml');
    expect(r.output).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(r.code, r.output).toBe(0);
  });

  test('promtool test rules: each alert fires when it should, and only then', (ctx) => {
    if (promtoolMissing !== undefined) ctx.skip(promtoolMissing);
    const r = run('test', 'rules', 'alerts.promtool.yaml');
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('SUCCESS');
  });

  test('the unit tests make every alert fire, and hold every alert quiet', () => {
    const cases = (parse(readFileSync(promtoolTests, 'utf8')) as Obj)['tests'] as Obj[];
    const checks = cases.flatMap((c) => c['alert_rule_test'] as Obj[]);
    for (const a of alerts) {
      const mine = checks.filter((t) => t['alertname'] === a['alert']);
      expect(
        mine.some((t) => t['exp_alerts'].length > 0),
        `${a['alert']} fires`,
      ).toBe(true);
      expect(
        mine.some((t) => t['exp_alerts'].length === 0),
        `${a['alert']} stays quiet`,
      ).toBe(true);
    }
  });

  test.each(alerts.map((a) => [a['alert'] as string, a] as const))(
    '%s: severity, summary, description, a runbook section',
    (name, a) => {
      expect(['critical', 'warning', 'info'], `${name}: severity`).toContain(
        a['labels']?.['severity'],
      );
      expect(a['annotations']?.['summary'], `${name}: summary`).toBeTruthy();
      expect(a['annotations']?.['description'], `${name}: description`).toBeTruthy();
      const anchor = name.toLowerCase();
      expect(a['annotations']?.['runbook_url'], `${name}: runbook_url`).toBe(
        `https://github.com/hairpin-dev/hairpin/blob/main/docs/runbook.md#${anchor}`,
      );
      expect(runbook, `docs/runbook.md has a section "## ${name}"`).toMatch(
        new RegExp(`^## ${name}$`, 'm'),
      );
    },
  );
});

describe('dashboard', () => {
  test('every panel queries the selected Prometheus; ids are unique', () => {
    const panels = dashboard['panels'] as Obj[];
    const ids = panels.map((p) => p['id']);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels.filter((x) => x['type'] !== 'row'))
      expect(p['datasource'], p['title']).toEqual({ type: 'prometheus', uid: '${datasource}' });
  });

  test('it shows what an operator looks at', () => {
    const shown = new Set(dashboardExprs.flatMap((q) => selectors(q.expr).map((s) => s.metric)));
    for (const metric of [
      'hairpin_relay_connections_total',
      'hairpin_relay_bytes_total',
      'hairpin_relay_active_connections',
      'hairpin_relay_upstream_connect_seconds_bucket',
      'hairpin_relay_connection_duration_seconds_bucket',
      'hairpin_dns_reconcile_total',
      'hairpin_dns_reconcile_seconds_bucket',
      'hairpin_dns_managed_hosts',
      'hairpin_dns_rejected_hosts_total',
      'hairpin_dns_leader',
      'hairpin_hosts_agent_writes_total',
    ])
      expect([...shown], metric).toContain(metric);
  });
});

describe('every metric queried exists in the registries', async () => {
  const names = await registered();
  test.each(queries.map((q) => [q.where, q.expr] as const))('%s', (where, expr) => {
    for (const { metric, labels } of selectors(expr)) {
      if (PENDING.has(metric)) continue;
      if (EXTERNAL.has(metric)) {
        expect(where, `${metric} is kube-state-metrics'`).toMatch(/^alert /);
        continue;
      }
      expect([...names.keys()], `${where}: ${metric}`).toContain(metric);
      for (const l of labels.filter((x) => !['namespace', 'pod'].includes(x)))
        expect(names.get(metric), `${where}: label ${l} of ${metric}`).toContain(l);
    }
  });

  if (PENDING.size > 0)
    test(`still pending: ${[...PENDING].join(', ')}`, () => {
      for (const metric of PENDING)
        expect(names.has(metric), `${metric} now exists: remove it from PENDING`).toBe(false);
    });
});
