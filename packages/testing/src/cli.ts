// Test support for the components' CLIs: in-process streams, and running a built bundle.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';

/** The streams and environment a component's CLI runs with (the shape of its CliIO). */
export interface CliIO {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface CapturedIO extends CliIO {
  readonly out: () => string;
  readonly err: () => string;
}

export function captureIO(stdin = '', env: Record<string, string> = {}): CapturedIO {
  const input = new PassThrough();
  input.end(stdin);
  let out = '';
  let err = '';
  const stdout = new PassThrough().on('data', (c: Buffer) => (out += c.toString()));
  const stderr = new PassThrough().on('data', (c: Buffer) => (err += c.toString()));
  return { stdin: input, stdout, stderr, env, out: () => out, err: () => err };
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  /** stdout as the bytes written (for byte-exact output). */
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
}

/** Runs `node <script> ...args` with Node running these tests, stdin given, bounded in time. */
export function runNode(
  script: string,
  args: readonly string[],
  options: { stdin?: string | Uint8Array; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 20_000,
    });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(stdout);
      resolve({ code, stdout: stdoutBytes.toString(), stdoutBytes, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

/**
 * A kubeconfig file naming a cluster nobody serves (a closed port on loopback), for
 * startup tests that must get past finding a cluster.
 */
export function unreachableKubeconfig(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hairpin-kubeconfig-'));
  const file = join(dir, 'config');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'none', cluster: { server: 'https://127.0.0.1:1' } }],
      users: [{ name: 'none', user: { token: 'none' } }],
      contexts: [{ name: 'none', context: { cluster: 'none', user: 'none' } }],
      'current-context': 'none',
    }),
  );
  return file;
}

/**
 * adminStartupMismatches for a component that talks to the API server (given a cluster
 * that is not there), plus its one-line failure when no cluster is configured at all.
 */
export async function kubeStartupMismatches(script: string): Promise<string[]> {
  const mismatches = await adminStartupMismatches(script, [], {
    KUBECONFIG: unreachableKubeconfig(),
  });
  const home = mkdtempSync(join(tmpdir(), 'hairpin-home-'));
  const r = await runNode(script, ['--admin', '127.0.0.1:0'], { env: { HOME: home } });
  const want =
    'fatal: no Kubernetes cluster configured: not in a pod (no service account), KUBECONFIG is unset and ~/.kube/config does not exist\n';
  if (r.code !== 1 || r.stderr !== want) {
    mismatches.push(
      `no cluster: exit ${r.code} (want 1), stderr ${JSON.stringify(r.stderr)} (want ${JSON.stringify(want)})`,
    );
  }
  return mismatches;
}

/** An address no interface of a test machine has (TEST-NET-1, RFC 5737): EADDRNOTAVAIL. */
export const UNAVAILABLE_ADDRESS = '192.0.2.1';

/** A port on 127.0.0.1 held by a listener until close(): binding it fails (EADDRINUSE). */
export async function occupiedPort(): Promise<{ readonly port: number; close(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Runs `script` with each --admin failure every component reports alike (an address in
 * use, one not on this host, a host that is not an IP) and returns how the result differed
 * from the contract (docs/install.md: exit 1 or 2, one line on stderr, no stack): [] when none.
 */
export async function adminStartupMismatches(
  script: string,
  extraArgs: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<string[]> {
  const taken = await occupiedPort();
  const cases = [
    {
      admin: `127.0.0.1:${taken.port}`,
      code: 1,
      stderr: `fatal: cannot listen on admin address 127.0.0.1:${taken.port}: address already in use (EADDRINUSE)\n`,
    },
    {
      admin: `${UNAVAILABLE_ADDRESS}:9090`,
      code: 1,
      stderr: `fatal: cannot listen on admin address ${UNAVAILABLE_ADDRESS}:9090: address not available on this host (EADDRNOTAVAIL)\n`,
    },
    {
      admin: '999.1.1.1:9090',
      code: 2,
      stderr:
        'error: --admin "999.1.1.1:9090": host must be an IP address (0.0.0.0 for every interface)\n',
    },
  ];
  const mismatches: string[] = [];
  try {
    for (const c of cases) {
      const r = await runNode(script, [...extraArgs, '--admin', c.admin], { env });
      if (r.code !== c.code || r.stderr !== c.stderr) {
        mismatches.push(
          `--admin ${c.admin}: exit ${r.code} (want ${c.code}), stderr ${JSON.stringify(r.stderr)} (want ${JSON.stringify(c.stderr)})`,
        );
      }
    }
  } finally {
    await taken.close();
  }
  return mismatches;
}

/** A flag as the components declare it (FlagSpec in @hairpin/shared), the fields --help shows. */
export interface HelpFlag {
  readonly name: string;
  readonly env?: string | null;
  readonly envAliases?: readonly string[];
  readonly default?: string;
  readonly defaultNote?: string;
}

/**
 * How a --help text differs from the contract (DESIGN.md, CLIs): a usage line naming the
 * command first; each flag on exactly one line of its own, with its default and its
 * environment twin(s) on that line. [] when it does not differ. Reads the text as a user
 * would, not through the code that wrote it.
 */
export function helpMismatches(
  text: string,
  command: string,
  flags: readonly HelpFlag[],
): string[] {
  const mismatches: string[] = [];
  const lines = text.split('\n');
  if (!lines[0]?.startsWith(`usage: ${command}`)) {
    mismatches.push(`first line ${JSON.stringify(lines[0])} is not "usage: ${command} ..."`);
  }
  if (flags.length === 0) mismatches.push('no flags given to check');
  for (const flag of flags) {
    const own = lines.filter((l) => new RegExp(`^  --${flag.name}(\\s|$)`).test(l));
    if (own.length !== 1) {
      mismatches.push(`--${flag.name}: ${own.length} lines (want 1)`);
      continue;
    }
    const line = own[0]!;
    const want: string[] = [];
    if (flag.default !== undefined) want.push(`(default ${flag.default})`);
    if (flag.defaultNote !== undefined) want.push(`(default: ${flag.defaultNote})`);
    const env =
      flag.env === null ? undefined : (flag.env ?? flag.name.toUpperCase().replaceAll('-', '_'));
    for (const name of [...(env === undefined ? [] : [env]), ...(flag.envAliases ?? [])]) {
      want.push(`$${name}`);
    }
    for (const w of want) {
      if (!line.includes(w)) mismatches.push(`--${flag.name}: ${JSON.stringify(line)} lacks ${w}`);
    }
  }
  return mismatches;
}

/** The version line's parts, or a mismatch: `<binary> <version> (commit <sha|unknown>, node <v>)`. */
export function parseVersionLine(
  text: string,
  binary: string,
): { version: string; commit: string; node: string } | string {
  const m = new RegExp(
    `^${binary} (\\S+) \\(commit ([0-9a-f]{7,64}|unknown), node (\\d+\\.\\d+\\.\\d+)\\)\\n$`,
  ).exec(text);
  if (m === null) return `--version printed ${JSON.stringify(text)}`;
  return { version: m[1]!, commit: m[2]!, node: m[3]! };
}

/** Whether `commit` is a commit of the repository these tests run in (true without git). */
export function isKnownCommit(commit: string, cwd: string): boolean {
  const inGit = spawnSync('git', ['rev-parse', '--git-dir'], { cwd, stdio: 'ignore' });
  if (inGit.status !== 0) return commit === 'unknown';
  const r = spawnSync('git', ['cat-file', '-e', `${commit}^{commit}`], { cwd, stdio: 'ignore' });
  return r.status === 0;
}

/**
 * Runs `node <script> ...args` with --help, -h, --version and an unknown flag, and returns
 * how the answers differ from the contract (DESIGN.md, CLIs): help on stdout, exit 0, each
 * flag with its default and environment twin; the version with the git commit the bundle
 * was built from (a commit of this repository); an unknown flag: exit 2 and one line on
 * stderr pointing at --help. [] when none.
 */
export async function cliContractMismatches(
  script: string,
  args: readonly string[],
  command: string,
  flags: readonly HelpFlag[],
): Promise<string[]> {
  const mismatches: string[] = [];
  const help = await runNode(script, [...args, '--help']);
  if (help.code !== 0 || help.stderr !== '') {
    mismatches.push(`--help: exit ${help.code}, stderr ${JSON.stringify(help.stderr)}`);
  }
  mismatches.push(...helpMismatches(help.stdout, command, flags).map((m) => `--help: ${m}`));
  const short = await runNode(script, [...args, '-h']);
  if (short.code !== 0 || short.stdout !== help.stdout) mismatches.push('-h differs from --help');

  const version = await runNode(script, [...args, '--version']);
  const binary = command.split(' ')[0]!;
  const parsed = parseVersionLine(version.stdout, binary);
  if (version.code !== 0 || typeof parsed === 'string') {
    mismatches.push(`--version: exit ${version.code}, ${JSON.stringify(version.stdout)}`);
  } else if (!isKnownCommit(parsed.commit, dirname(script))) {
    mismatches.push(`--version: commit ${parsed.commit} is not a commit of this repository`);
  }

  const unknown = await runNode(script, [...args, '--no-such-flag']);
  const want = `error: unknown flag --no-such-flag; see ${command} --help\n`;
  if (unknown.code !== 2 || unknown.stderr !== want || unknown.stdout !== '') {
    mismatches.push(
      `unknown flag: exit ${unknown.code} (want 2), stderr ${JSON.stringify(unknown.stderr)} (want ${JSON.stringify(want)})`,
    );
  }
  return mismatches;
}
