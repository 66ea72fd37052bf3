// A real CoreDNS for tests, the judge of every Corefile edit (docs: DESIGN.md, "CoreDNS is
// the judge"). The binary is found on PATH (`coredns`) or through HAIRPIN_COREDNS; where it
// is missing the tests skip with one line, except in CI (HAIRPIN_REQUIRE_PEERS=1), where they
// fail. The binary's `kubernetes` plugin serves the Services listed in STUBK8S_RECORDS
// instead of asking an API server.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  accessSync,
  constants,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, normalize } from 'node:path';
import { freeDnsPort } from './dns-port.ts';
import { skipOrFail } from './missing.ts';
import { queryDns, type DnsAnswer, type DnsQueryOptions } from './dns-client.ts';

/** Services the stub `kubernetes` plugin serves unless a test gives its own (cluster.local). */
export const CLUSTER_SERVICES: Readonly<Record<string, string>> = {
  'kube-dns.kube-system.svc.cluster.local': '10.96.0.10',
  'hairpin-relay.hairpin.svc.cluster.local': '10.96.7.7',
};

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The CoreDNS binary: HAIRPIN_COREDNS when set (it must then be executable), else `coredns`
 * on PATH; undefined when there is none. Throws when HAIRPIN_COREDNS names a missing file.
 */
export function findCoreDNS(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env['HAIRPIN_COREDNS'];
  if (given !== undefined && given !== '') {
    if (!executable(given)) throw new Error(`HAIRPIN_COREDNS=${given} is not an executable file`);
    return given;
  }
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && executable(join(dir, 'coredns'))) return join(dir, 'coredns');
  }
  return undefined;
}

/**
 * Why CoreDNS tests cannot run here (one line), or undefined when they can. In CI
 * (HAIRPIN_REQUIRE_PEERS=1) a missing CoreDNS throws instead, so the suite fails.
 */
export function coreDNSMissing(env: NodeJS.ProcessEnv = process.env): string | undefined {
  let reason: string;
  try {
    if (findCoreDNS(env) !== undefined) return undefined;
    reason = 'no coredns on PATH and HAIRPIN_COREDNS is not set';
  } catch (err) {
    reason = (err as Error).message;
  }
  return skipOrFail(reason, 'CoreDNS tests', env);
}

export interface StartCoreDNSOptions {
  /** The Corefile's text, written as `Corefile` in a fresh temporary directory. */
  readonly corefile: string;
  /**
   * Services for the `kubernetes` plugin (STUBK8S_RECORDS): `NAME.NAMESPACE.svc.ZONE` to a
   * ClusterIP. Default: CLUSTER_SERVICES.
   */
  readonly records?: Readonly<Record<string, string>>;
  /**
   * More files, by path relative to the directory (e.g. `custom/hairpin.override` for an
   * `import custom/*.override`, or `NodeHosts`). CoreDNS runs in that directory, so relative
   * paths in the Corefile resolve there.
   */
  readonly files?: Readonly<Record<string, string>>;
  /** The environment CoreDNS sees (for `{$VAR}` in the Corefile); nothing else is inherited. */
  readonly env?: Readonly<Record<string, string>>;
  /** Default: findCoreDNS(). */
  readonly binary?: string;
  /** How long CoreDNS has to start answering; default 10 s. */
  readonly timeoutMs?: number;
}

export interface RunningCoreDNS {
  /** The `-dns.port`: the port of every server block without its own. */
  readonly port: number;
  /** CoreDNS's process id (e.g. for `taskset -a -p`). */
  readonly pid: number;
  /** The temporary directory holding `Corefile` and `files`. */
  readonly dir: string;
  /** One query to 127.0.0.1:port (see queryDns: name case kept, UDP then TCP on TC). */
  query(name: string, type?: string, options?: DnsQueryOptions): Promise<DnsAnswer>;
  /** Everything CoreDNS wrote to stdout and stderr so far (the last 256 KiB). */
  output(): string;
  /** Writes a file into `dir` (atomically: a reader never sees it half written). */
  writeFile(path: string, text: string): void;
  /**
   * Replaces the Corefile (when given) and makes CoreDNS reload it now (SIGUSR1), resolving
   * once it reports "Reloading complete"; rejects with CoreDNS's message when the new
   * configuration is refused (CoreDNS then keeps serving the old one).
   */
  reload(corefile?: string): Promise<void>;
  /** Kills CoreDNS (SIGKILL: `health { lameduck }` would delay a SIGTERM by seconds) and removes `dir`. */
  stop(): Promise<void>;
}

const OUTPUT_LIMIT = 256 * 1024;

function safeRelative(path: string): string {
  const p = normalize(path);
  if (isAbsolute(p) || p.startsWith('..'))
    throw new Error(`files: ${path} is not inside the directory`);
  return p;
}

function writeAtomically(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** The child's output in one string, capped to its last OUTPUT_LIMIT characters. */
function collect(child: ChildProcess): () => string {
  let output = '';
  const add = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => output;
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await once(child, 'exit');
}

async function startOnce(
  options: StartCoreDNSOptions,
  binary: string,
  dir: string,
): Promise<RunningCoreDNS> {
  const port = await freeDnsPort();
  const records = Object.entries(options.records ?? CLUSTER_SERVICES)
    .map(([name, ip]) => `${name}=${ip}`)
    .join(',');
  const child = spawn(binary, ['-conf', join(dir, 'Corefile'), '-dns.port', String(port)], {
    cwd: dir,
    env: { ...options.env, STUBK8S_RECORDS: records },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collect(child);
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  const failed = (why: string) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    const text = output().trim();
    return new Error(`CoreDNS ${why}${text === '' ? '' : `:\n${text}`}`);
  };
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    if (spawnError) throw new Error(`cannot run ${binary}: ${spawnError.message}`);
    if (child.exitCode !== null) throw failed(`exited with code ${child.exitCode} at start`);
    // Any answer, even REFUSED for a zone no block serves, means the listeners are up.
    const answered = await queryDns({ port }, '.', 'SOA', { timeoutMs: 100, attempts: 1 }).then(
      () => true,
      () => false,
    );
    if (answered) break;
    if (Date.now() > deadline) throw failed(`did not answer on 127.0.0.1:${port} in time`);
  }
  const corefilePath = join(dir, 'Corefile');
  return {
    port,
    pid: child.pid ?? 0,
    dir,
    query: (name, type = 'A', queryOptions = {}) => queryDns({ port }, name, type, queryOptions),
    output,
    writeFile: (path, text) => writeAtomically(join(dir, safeRelative(path)), text),
    reload: async (corefile) => {
      if (corefile !== undefined) writeAtomically(corefilePath, corefile);
      const from = output().length;
      child.kill('SIGUSR1');
      const until = Date.now() + 10_000;
      for (;;) {
        const since = output().slice(from);
        if (since.includes('Reloading complete')) return;
        const refused = /\[ERROR\] Restart failed: (.*)/.exec(since);
        if (refused) throw new Error(`CoreDNS refused the new Corefile: ${refused[1]}`);
        if (child.exitCode !== null) throw failed('exited while reloading');
        if (Date.now() > until) throw new Error(`CoreDNS did not reload in time:\n${since}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts the real CoreDNS on `corefile` (and `files`) in a temporary directory, on a free
 * loopback port given as `-dns.port`, and resolves once it answers. A Corefile from a
 * cluster needs `prepareCorefile` first (bind, fixed ports, upstreams, placeholders).
 * Rejects with CoreDNS's own output when it does not start.
 */
export async function startCoreDNS(options: StartCoreDNSOptions): Promise<RunningCoreDNS> {
  const binary = options.binary ?? findCoreDNS();
  if (binary === undefined) throw new Error(coreDNSMissing() ?? 'no CoreDNS binary');
  for (let attempt = 0; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'hairpin-coredns-'));
    try {
      writeFileSync(join(dir, 'Corefile'), options.corefile);
      for (const [path, text] of Object.entries(options.files ?? {})) {
        writeAtomically(join(dir, safeRelative(path)), text);
      }
      return await startOnce(options, binary, dir);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      // The free port can be taken between the check and CoreDNS's bind: try another.
      if (attempt < 3 && /address already in use/.test((err as Error).message)) continue;
      throw err;
    }
  }
}
