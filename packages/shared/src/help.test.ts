import { helpMismatches } from '@hairpin/testing';
import { AggregatorRegistry, Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { type FlagSpec } from './flags.ts';
import { formatHelp, type CommandHelp } from './help.ts';
import { registerBuildInfo, versionLine } from './runtime/build-info.ts';
import { answerCommandLine } from './runtime/command.ts';

const FLAGS: readonly FlagSpec[] = [
  { name: 'listen', env: 'RELAY_ROUTES', repeatable: true, arg: 'A=B', help: 'a route' },
  { name: 'proxy-protocol', arg: 'v1|v2', default: 'v1' },
  { name: 'workers', envAliases: ['RELAY_WORKERS'], default: '1' },
  { name: 'cluster-domain', defaultNote: 'from /etc/resolv.conf' },
  { name: 'debounce-ms', aliasOf: { name: 'debounce', unitMs: 1 } },
  { name: 'force', env: null, boolean: true },
];
const COMMAND: CommandHelp = {
  name: 'hairpin-test',
  usage: '[flags]',
  about: 'A test command.',
  commands: [{ name: 'render', about: 'renders' }],
  sections: [{ title: 'test flags', flags: FLAGS }],
};
const INFO = { version: '1.2.3', commit: 'abc1234', nodeVersion: '26.0.0' };

function capture() {
  const out = { stdout: '', stderr: '' };
  const io = {
    stdout: { write: (s: string) => ((out.stdout += s), true) },
    stderr: { write: (s: string) => ((out.stderr += s), true) },
  } as unknown as { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
  return { out, io };
}

describe('formatHelp', () => {
  const text = formatHelp(COMMAND);

  test('a usage line, one line per flag with its syntax, default and environment twins', () => {
    expect(helpMismatches(text, 'hairpin-test', FLAGS)).toEqual([]);
    const line = (name: string) => text.split('\n').find((l) => l.startsWith(`  --${name}`));
    expect(line('listen')).toMatch(
      /^ {2}--listen A=B\.\.\. +a route \[\$RELAY_ROUTES, comma-separated\]$/,
    );
    expect(line('proxy-protocol')).toMatch(/ \(default v1\) \[\$PROXY_PROTOCOL\]$/);
    expect(line('workers')).toMatch(
      /--workers VALUE +\(default 1\) \[\$WORKERS, \$RELAY_WORKERS\]$/,
    );
    expect(line('cluster-domain')).toContain('(default: from /etc/resolv.conf) [$CLUSTER_DOMAIN]');
    expect(line('debounce-ms')).toContain(
      'older spelling of --debounce; a bare number counts in milliseconds',
    );
    expect(line('force')).toMatch(/^ {2}--force +$|^ {2}--force$/);
    expect(text).toMatch(/^commands:\n {2}render {2}renders$/m);
    expect(text).toContain('\ntest flags:\n');
  });

  test('the test helper notices a flag, default or twin that is missing', () => {
    const broken = text.replace('(default v1) ', '').replace('$RELAY_WORKERS', '');
    expect(helpMismatches(broken, 'hairpin-test', FLAGS)).toEqual([
      `--proxy-protocol: ${JSON.stringify(broken.split('\n').find((l) => l.startsWith('  --proxy-protocol')))} lacks (default v1)`,
      `--workers: ${JSON.stringify(broken.split('\n').find((l) => l.startsWith('  --workers')))} lacks $RELAY_WORKERS`,
    ]);
    expect(helpMismatches(text, 'hairpin-other', [{ name: 'nope' }])).toEqual([
      'first line "usage: hairpin-test [flags]" is not "usage: hairpin-other ..."',
      '--nope: 0 lines (want 1)',
    ]);
  });
});

describe('answerCommandLine', () => {
  test.each([['--help'], ['-h'], ['--listen', 'x', '--help']])(
    '%j: the help, exit 0',
    (...argv) => {
      const { out, io } = capture();
      expect(answerCommandLine(argv, COMMAND, io)).toBe(0);
      expect(out).toEqual({ stdout: formatHelp(COMMAND), stderr: '' });
    },
  );

  test('--version: version, commit and Node, exit 0', () => {
    const { out, io } = capture();
    expect(answerCommandLine(['--version'], COMMAND, io, { buildInfo: INFO })).toBe(0);
    expect(out.stdout).toBe('hairpin-test 1.2.3 (commit abc1234, node 26.0.0)\n');
  });

  test.each([
    [['--nope', '--force'], 'unknown flag --nope'],
    [['--listen'], '--listen needs a value'],
    [['-x'], 'unknown flag -x'],
    [['demoo'], 'unexpected argument demoo'],
    [['--force', 'x'], 'unexpected argument x'],
  ])('%j: one line pointing at --help, exit 2', (argv, problem) => {
    const { out, io } = capture();
    expect(answerCommandLine(argv, COMMAND, io)).toBe(2);
    expect(out).toEqual({ stdout: '', stderr: `error: ${problem}; see hairpin-test --help\n` });
  });

  test('a readable command line goes on; after -- nothing is read as --help', () => {
    const { out, io } = capture();
    expect(answerCommandLine(['--listen', 'a=b', '--force'], COMMAND, io)).toBeUndefined();
    expect(answerCommandLine(['-o', 'json'], COMMAND, io, { shortFlags: ['-o'] })).toBeUndefined();
    expect(answerCommandLine(['--', '--help'], COMMAND, io)).toBeUndefined();
    expect(out).toEqual({ stdout: '', stderr: '' });
  });
});

describe('build info', () => {
  test('the version line and hairpin_build_info say the same', async () => {
    expect(versionLine('hairpin-relay', INFO)).toBe(
      'hairpin-relay 1.2.3 (commit abc1234, node 26.0.0)',
    );
    const registry = new Registry();
    registerBuildInfo(registry, INFO);
    expect(await registry.metrics()).toContain(
      'hairpin_build_info{version="1.2.3",commit="abc1234",node_version="26.0.0"} 1',
    );
  });

  test('several relay workers report it once, as 1', async () => {
    const workers = [new Registry(), new Registry()];
    for (const r of workers) registerBuildInfo(r, INFO);
    const merged = AggregatorRegistry.aggregate(
      await Promise.all(workers.map((r) => r.getMetricsAsJSON())),
    );
    const lines = (await merged.metrics()).split('\n').filter((l) => l.startsWith('hairpin_'));
    expect(lines).toEqual([
      'hairpin_build_info{version="1.2.3",commit="abc1234",node_version="26.0.0"} 1',
    ]);
  });

  test('from the sources (no bundle): version dev, commit unknown', async () => {
    const { BUILD_INFO } = await import('./runtime/build-info.ts');
    expect(BUILD_INFO).toEqual({
      version: 'dev',
      commit: 'unknown',
      nodeVersion: process.versions.node,
    });
  });
});
