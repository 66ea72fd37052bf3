// The docs say what the code does: the flag tables in docs/install.md against each
// component's own flag specs, and the metric tables in README.md and docs/install.md
// against the metrics each component registers, and the defaults that --help and the
// tables show against what loadConfig applies. A flag or metric added, renamed or removed
// without its doc fails here.
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { envNameOf, LOG_LEVELS, type FlagSpec } from '../../packages/shared/src/index.ts';
import { registerBuildInfo } from '../../packages/shared/src/runtime/build-info.ts';
import {
  CONTROLLER_FLAGS,
  loadConfig as loadControllerConfig,
} from '../../packages/dns-controller/src/config.ts';
import {
  createControllerMetrics,
  createLeaderElectionMetrics,
  RECONCILE_RESULTS,
} from '../../packages/dns-controller/src/metrics.ts';
import {
  AGENT_FLAGS,
  loadConfig as loadAgentConfig,
} from '../../packages/hosts-agent/src/config.ts';
import { createAgentMetrics, WRITE_RESULTS } from '../../packages/hosts-agent/src/metrics.ts';
import { loadConfig as loadRelayConfig, RELAY_FLAGS } from '../../packages/relay/src/config.ts';
import { createRelayMetrics } from '../../packages/relay/src/metrics.ts';

const doc = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The rows of the first Markdown table after `heading`, as arrays of cells. */
function tableAfter(text: string, heading: string): string[][] {
  const start = text.indexOf(heading);
  expect(start, `heading ${heading}`).toBeGreaterThanOrEqual(0);
  const lines = text.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim()),
    );
  }
  return rows;
}

const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

describe('flag tables in docs/install.md', () => {
  const install = doc('docs/install.md');
  test.each([
    ['### relay (', RELAY_FLAGS],
    ['### dns-controller (', CONTROLLER_FLAGS],
    ['### hosts agent (', AGENT_FLAGS],
  ] as const)('%s', (heading, specs: readonly FlagSpec[]) => {
    // The default as --help shows it (flags.ts: `default`, or `defaultNote`), code spans unquoted.
    const documented = tableAfter(install, heading).map(([flag = '', env = '', dflt = '']) => ({
      flag: ticked(flag)[0],
      env: ticked(env),
      default: dflt.replaceAll('`', ''),
    }));
    const code = specs.map((s) => ({
      flag: `--${s.name}`,
      env: [envNameOf(s)!, ...(s.envAliases ?? [])],
      default: s.default ?? s.defaultNote ?? '',
    }));
    expect(documented).toEqual(expect.arrayContaining(code));
    expect(code).toEqual(expect.arrayContaining(documented));
    expect(documented).toHaveLength(code.length);
  });

  test('every twin is the upper snake case of its flag, or a documented historical name', () => {
    const historical = new Map([
      ['admin', 'ADMIN_ADDR'],
      ['namespace', 'POD_NAMESPACE'],
      ['listen', 'RELAY_ROUTES'],
    ]);
    for (const s of [...RELAY_FLAGS, ...CONTROLLER_FLAGS, ...AGENT_FLAGS]) {
      const snake = s.name.toUpperCase().replaceAll('-', '_');
      expect(envNameOf(s), `--${s.name}`).toBe(historical.get(s.name) ?? snake);
    }
  });

  test('--log-level lists exactly the levels the code accepts', () => {
    for (const heading of ['### relay (', '### dns-controller (', '### hosts agent (']) {
      const row = tableAfter(install, heading).find((r) => r[0] === '`--log-level`')!;
      expect(ticked(row[3]!)).toEqual([...LOG_LEVELS]);
    }
  });
});

describe('the defaults --help and the docs show are the ones the code applies', () => {
  // `--flag <default>` must configure exactly what leaving the flag out does.
  test.each([
    [
      'relay',
      RELAY_FLAGS,
      (argv: string[]) => loadRelayConfig(['--listen', '127.0.0.1:8080=x:80', ...argv], {}),
    ],
    [
      'dns-controller',
      CONTROLLER_FLAGS,
      (argv: string[]) => loadControllerConfig(argv, { POD_NAME: 'p' }),
    ],
    ['hosts agent', AGENT_FLAGS, (argv: string[]) => loadAgentConfig(argv, {})],
  ] as const)('%s', (_, specs: readonly FlagSpec[], load: (argv: string[]) => unknown) => {
    // --max-connections: not given, the relay derives it from the open-file limit (run.ts),
    // with the default as the ceiling; given, it is what was asked for.
    const derived = new Set(['max-connections']);
    const withDefaults = specs.filter((s) => s.default !== undefined && !derived.has(s.name));
    expect(withDefaults.length).toBeGreaterThan(0);
    for (const s of withDefaults) {
      expect(load([`--${s.name}`, s.default!]), `--${s.name} ${s.default}`).toEqual(load([]));
    }
  });
});

describe('metric tables', () => {
  const registry = new Registry();
  registerBuildInfo(registry);
  // The relay's metrics are computed at scrape time: one route with one counted result
  // makes every series and label appear.
  createRelayMetrics(registry).route('0.0.0.0:8080').results[0] = 1;
  createControllerMetrics(registry);
  createLeaderElectionMetrics(registry);
  createAgentMetrics(registry);

  /** Each metric's name, type and label names (declared, or else seen in its samples). */
  async function registered() {
    const out = [];
    for (const m of registry.getMetricsAsArray()) {
      const metric = m as unknown as {
        name: string;
        type: string;
        labelNames?: string[];
        get(): Promise<{ values: { labels: Record<string, unknown> }[] }>;
      };
      const seen = (await metric.get()).values.flatMap((v) => Object.keys(v.labels));
      const labels = new Set(metric.labelNames ?? seen.filter((l) => l !== 'le'));
      out.push({ name: metric.name, type: metric.type, labels: [...labels].sort() });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  test.each([
    ['README.md', '## Metrics'],
    ['docs/install.md', '## Metrics'],
  ])(
    '%s lists every metric the components register, with type and labels',
    async (path, heading) => {
      const documented = tableAfter(doc(path), heading)
        .map(([name = '', type = '', labels = '']) => ({
          name: ticked(name)[0]!,
          type,
          labels: ticked(labels).sort(),
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
      expect(documented).toEqual(await registered());
    },
  );

  test('label values: every reconcile result and hosts-file write result is documented', () => {
    const controller = doc('docs/dns-controller.md');
    const results = /`hairpin_dns_reconcile_total\{result\}`: ([^.]+)\./.exec(controller);
    expect(ticked(results?.[1] ?? '').sort()).toEqual([...RECONCILE_RESULTS].sort());
    const agent = doc('docs/hosts-agent.md');
    const writes = /`hairpin_hosts_agent_writes_total\{result\}`: ([^;]+);/.exec(agent);
    expect(ticked(writes?.[1] ?? '').sort()).toEqual([...WRITE_RESULTS].sort());
  });
});

test('LICENSE is the MIT license, as every package.json says', () => {
  expect(doc('LICENSE')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
  for (const pkg of [
    '.',
    'packages/relay',
    'packages/dns-controller',
    'packages/hosts-agent',
    'packages/shared',
    'packages/testing',
  ]) {
    expect((JSON.parse(doc(`${pkg}/package.json`)) as { license?: string }).license, pkg).toBe(
      'MIT',
    );
  }
});
