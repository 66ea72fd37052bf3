// `hairpin-dns-controller status [--namespace NS] [--output text|json]` (DESIGN.md CLIs):
// which hosts are handled, read from outside the pod through the API server with the
// caller's kubeconfig (or in-cluster): the published hairpin-hosts ConfigMap, the target
// Corefiles, the HostnameRefused Events and the Lease. It accepts the controller's flags,
// so a non-default setup (--coredns-configmap, --import-configmap, --lease-name) reads the
// same targets. An unreachable cluster or a forbidden read: one line, exit 1.
import { CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { ConfigError, HOSTS_CONFIGMAP_NAME } from '@hairpin/shared';
import { apiStatus, isNotFound, type CliIO } from '@hairpin/shared/runtime';
import {
  buildClusterStatus,
  formatClusterStatus,
  type ClusterObservation,
} from './cluster-status.ts';
import { loadConfig } from './config.ts';
import { HOSTNAME_REFUSED } from './constants.ts';
import { describeError } from './status.ts';

export const STATUS_USAGE =
  'usage: hairpin-dns-controller status [--namespace NS] [--output text|json] [controller flags]';

/** --output text|json (also -o), taken out before the controller's flags are parsed. */
function takeOutput(argv: readonly string[]): {
  output: 'text' | 'json';
  rest: string[];
  problems: string[];
} {
  const rest: string[] = [];
  const problems: string[] = [];
  let output: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--output' || arg === '-o') {
      output = argv[++i];
      if (output === undefined) problems.push('--output needs a value');
    } else if (arg.startsWith('--output=')) output = arg.slice('--output='.length);
    else rest.push(arg);
  }
  if (output !== undefined && output !== 'text' && output !== 'json') {
    problems.push(`--output ${JSON.stringify(output)}: expected text or json`);
  }
  return { output: output === 'json' ? 'json' : 'text', rest, problems };
}

class ReadFailure extends Error {
  readonly status: number | undefined;
  constructor(what: string, err: unknown) {
    super(`${what}: ${describeError(err)}`);
    this.status = apiStatus(err);
  }
}

/** A read that may find nothing (404: undefined); any other failure names what was read. */
async function read<T>(what: string, get: () => Promise<T>): Promise<T | undefined> {
  try {
    return await get();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw new ReadFailure(what, err);
  }
}

export async function runStatus(
  argv: readonly string[],
  io: CliIO,
  options: {
    /** In-cluster, or KUBECONFIG / ~/.kube/config (main.ts); throws on a bad file. */
    readonly kubeConfig: () => KubeConfig;
    readonly now?: () => Date;
  },
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${STATUS_USAGE}\n`);
    return 0;
  }
  const { output, rest, problems } = takeOutput(argv);
  let config;
  try {
    config = loadConfig(rest, io.env, io);
  } catch (err) {
    // Every problem at once: ours with the controller flags' ones.
    if (err instanceof ConfigError) throw new ConfigError([...problems, ...err.problems]);
    throw err;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  let kc: KubeConfig;
  try {
    kc = options.kubeConfig();
  } catch (err) {
    io.stderr.write(`status: cannot load a kubeconfig: ${describeError(err)}\n`);
    return 1;
  }
  const server = kc.getCurrentCluster()?.server ?? '(no server)';
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const configMap = (namespace: string, name: string) =>
    read(`get ConfigMap ${namespace}/${name}`, () =>
      core.readNamespacedConfigMap({ namespace, name }),
    );

  let seen: ClusterObservation;
  try {
    const targets = [
      ...config.corefiles.map((target) => ({ target, role: 'corefile' as const })),
      ...(config.importTarget === undefined
        ? []
        : [{ target: config.importTarget, role: 'import' as const }]),
    ];
    const [maps, published, events, lease] = await Promise.all([
      Promise.all(targets.map((t) => configMap(t.target.namespace, t.target.name))),
      configMap(config.namespace, HOSTS_CONFIGMAP_NAME),
      read(`list Events (reason=${HOSTNAME_REFUSED}) in all namespaces`, () =>
        core.listEventForAllNamespaces({ fieldSelector: `reason=${HOSTNAME_REFUSED}` }),
      ),
      read(`get Lease ${config.namespace}/${config.leaseName}`, () =>
        coordination.readNamespacedLease({ namespace: config.namespace, name: config.leaseName }),
      ),
    ]);
    seen = {
      targets: targets.map((t, i) => ({ ...t, configMap: maps[i] })),
      published,
      events: events?.items ?? [],
      lease,
    };
  } catch (err) {
    io.stderr.write(`status: ${explain(err, server)}\n`);
    return 1;
  }
  const report = buildClusterStatus(config, seen, options.now?.() ?? new Date());
  io.stdout.write(
    output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatClusterStatus(report),
  );
  return 0;
}

function explain(err: unknown, server: string): string {
  if (!(err instanceof ReadFailure)) return describeError(err);
  if (err.status === 401 || err.status === 403) {
    return `not allowed to ${err.message} (the status command reads with your kubeconfig's credentials)`;
  }
  if (err.status === undefined)
    return `cannot reach the Kubernetes API server ${server}: ${err.message}`;
  return err.message;
}
