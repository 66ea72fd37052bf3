// `hairpin-dns-controller render` (a stable CLI: docs/corefile-editing.md): the controller's Corefile
// edit as a pure command. Corefile in (file or stdin), edited Corefile out; no hosts means
// every managed rule removed. Anything it cannot do safely: exit 2, a message on stderr,
// nothing on stdout.
import {
  applyCorefileHosts,
  CLUSTER_DOMAIN_FLAG,
  decideHosts,
  ErrorCodes,
  DEFAULT_SOURCE_FILTER,
  flagValue,
  HairpinError,
  hostsFromIngress,
  NAMESPACE_FLAG,
  namespaceFlag,
  relayFqdn,
  type FlagSpec,
} from '@hairpin/shared';
import {
  hostsFromFlags,
  readInput,
  RenderFailure,
  renderFlags,
  runRenderCommand,
  type CliIO,
} from '@hairpin/shared/runtime';
import { parseAllDocuments } from 'yaml';

const FLAGS: readonly FlagSpec[] = [
  { name: 'corefile', env: null, arg: 'FILE|-', help: 'the Corefile to edit; - reads stdin' },
  { name: 'host', env: null, repeatable: true, arg: 'HOST', help: 'a hostname to hairpin' },
  {
    name: 'ingresses',
    env: null,
    arg: 'FILE|-',
    help: 'hosts from Ingresses (kubectl get ingress -A -o yaml)',
  },
  {
    name: 'target',
    env: null,
    arg: 'FQDN',
    defaultNote: 'hairpin-relay.<namespace>.svc.<domain>',
    help: "the relay Service's name: earlier versions' rewrite rules to it are removed",
  },
  {
    name: 'relay-ip',
    env: null,
    repeatable: true,
    arg: 'IP',
    help: "the relay Service's ClusterIP (one per family), which managed names answer; needed with hosts",
  },
  NAMESPACE_FLAG,
  CLUSTER_DOMAIN_FLAG,
  {
    name: 'extra-directive',
    env: null,
    repeatable: true,
    arg: 'PLUGIN',
    help: "a custom CoreDNS build's plugin, so its Corefile parses",
  },
];

/** The render flags, for --help (main.ts, commands.ts). */
export { FLAGS as RENDER_FLAGS };

/** What follows the command on its usage line, here and in --help (commands.ts). */
export const RENDER_ARGS =
  '--corefile FILE|- [--host HOST]... [--ingresses FILE|-] [--relay-ip IP]... [flags]';
const RENDER_USAGE = `usage: hairpin-dns-controller render ${RENDER_ARGS}`;

/**
 * How many times YAML aliases may expand, counted as the yaml package does (uses of an
 * anchor times the aliases inside it). `kubectl` never writes aliases; a "billion laughs"
 * document of a few hundred bytes would expand to gigabytes.
 */
const MAX_ALIAS_COUNT = 100;

/** Ingress objects from `kubectl get ingress -A -o yaml` (a List), one Ingress, or JSON. */
export function ingressesFromDocument(text: string): unknown[] {
  const docs = parseAllDocuments(text);
  const out: unknown[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      throw new HairpinError(ErrorCodes.INPUT, `--ingresses: ${doc.errors[0]!.message}`);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      // yaml throws a ReferenceError for an alias bomb ("Excessive alias count ...").
      const why = err instanceof Error ? err.message : String(err);
      throw new HairpinError(
        ErrorCodes.INPUT,
        `--ingresses: ${why} (YAML aliases may expand at most ${MAX_ALIAS_COUNT} times)`,
      );
    }
    if (value === null || value === undefined) continue;
    const items = (value as { items?: unknown }).items;
    if (Array.isArray(items)) out.push(...items);
    else out.push(value);
  }
  return out;
}

export async function runRender(argv: readonly string[], io: CliIO): Promise<number> {
  return runRenderCommand('hairpin-dns-controller render', io, async () => {
    const { flags, problems, clusterDomain } = renderFlags(argv, io, FLAGS);
    const namespace = namespaceFlag(flags, problems);
    const corefile = flagValue(flags, 'corefile');
    const ingressesPath = flagValue(flags, 'ingresses');
    if (corefile === undefined) problems.push('--corefile FILE|- is required');
    if (corefile === '-' && ingressesPath === '-') {
      problems.push('--corefile and --ingresses cannot both read standard input');
    }
    if (problems.length > 0 || corefile === undefined) {
      throw new RenderFailure(`${problems.join('; ')}\n${RENDER_USAGE}`);
    }
    const target =
      flagValue(flags, 'target') ?? relayFqdn('hairpin-relay', namespace, clusterDomain);
    const policy = { clusterDomain, allowedSuffixes: [] };

    const hosts = hostsFromFlags(flags.values.get('host') ?? [], policy);
    if (ingressesPath !== undefined) {
      const objects = ingressesFromDocument(await readInput(ingressesPath, io.stdin));
      const decision = decideHosts(
        objects.flatMap((o) => hostsFromIngress(o, DEFAULT_SOURCE_FILTER)),
        policy,
      );
      for (const r of decision.rejected) {
        io.stderr.write(
          `warning: ${r.ref.kind} ${r.ref.namespace}/${r.ref.name}: host refused (${r.reason}): ${r.message}\n`,
        );
      }
      hosts.push(...decision.hosts);
    }
    const relayIPs = flags.values.get('relay-ip') ?? [];
    if (hosts.length > 0 && relayIPs.length === 0) {
      throw new RenderFailure(
        `--relay-ip IP is required with hosts (kubectl -n ${namespace} get service hairpin-relay -o jsonpath='{.spec.clusterIPs}')\n${RENDER_USAGE}`,
      );
    }
    return applyCorefileHosts(await readInput(corefile, io.stdin), hosts, {
      target,
      relayIPs,
      extraDirectives: flags.values.get('extra-directive') ?? [],
    });
  });
}
