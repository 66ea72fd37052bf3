// hairpin-dns-controller configuration: flags with environment twins (docs/install.md, Configuration),
// parsed once at the edge; every problem reported at once; the result frozen.
import {
  CLUSTER_DOMAIN_FLAG,
  clusterDomainFlag,
  commonConfig,
  COMMON_FLAGS,
  ConfigError,
  domainSuffixesFlag,
  durationFlag,
  formatDuration,
  NAMESPACE_FLAG,
  namespaceFlag,
  relayFqdn,
  type CommonConfig,
  flagValue,
  parseFlags,
  type FlagSpec,
  type IngressHostSource,
} from '@hairpin/shared';
import { DEFAULT_DEBOUNCE_MS, DEFAULT_DISCOVERY_INTERVAL_MS } from './constants.ts';

export interface ConfigMapTarget {
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
}

export interface ControllerConfig extends CommonConfig {
  readonly namespace: string;
  readonly clusterDomain: string;
  /** hairpin-relay.<namespace>.svc.<cluster domain> */
  readonly relayFqdn: string;
  readonly relayService: string;
  /** Corefiles edited in place. */
  readonly corefiles: readonly ConfigMapTarget[];
  /** Import mode (k3s, AKS): only this ConfigMap's key is written. */
  readonly importTarget: ConfigMapTarget | undefined;
  readonly sources: readonly IngressHostSource[];
  readonly ingressClasses: readonly string[];
  readonly gatewayClasses: readonly string[];
  readonly gatewayApi: 'auto' | 'off';
  readonly allowedSuffixes: readonly string[];
  readonly extraDirectives: readonly string[];
  readonly debounceMs: number;
  readonly leaseName: string;
  readonly podName: string;
  readonly discoveryIntervalMs: number;
}

/** The flags and environment twins (upper snake case; plural names of repeatable flags
 * from before that rule are still read as aliases). The docs' tables are checked against it. */
export const CONTROLLER_FLAGS: readonly FlagSpec[] = [
  { ...NAMESPACE_FLAG, help: "hairpin's namespace: relay Service, hairpin-hosts, Lease" },
  {
    ...CLUSTER_DOMAIN_FLAG,
    help: "the relay's FQDN is under it; names under it are never hairpinned",
  },
  {
    name: 'coredns-configmap',
    repeatable: true,
    envAliases: ['COREDNS_CONFIGMAPS'],
    arg: 'NAMESPACE/NAME[:KEY]',
    default: 'kube-system/coredns',
    help: 'a Corefile to edit (key default Corefile)',
  },
  {
    name: 'import-configmap',
    arg: 'NAMESPACE/NAME[:KEY]',
    help: 'import mode (k3s, AKS): write only this *.override key (default hairpin.override)',
  },
  {
    name: 'sources',
    arg: 'tls,rules',
    default: 'tls,rules',
    help: 'which Ingress fields give hostnames',
  },
  {
    name: 'ingress-class',
    repeatable: true,
    envAliases: ['INGRESS_CLASSES'],
    arg: 'CLASS',
    defaultNote: 'every class',
    help: 'only Ingresses of these classes',
  },
  {
    name: 'gateway-class',
    repeatable: true,
    envAliases: ['GATEWAY_CLASSES'],
    arg: 'CLASS',
    defaultNote: 'every class',
    help: 'only Gateways of these classes (and their routes)',
  },
  {
    name: 'gateway-api',
    arg: 'auto|off',
    default: 'auto',
    help: 'watch Gateways and HTTPRoutes once their CRDs exist',
  },
  {
    name: 'allowed-suffix',
    repeatable: true,
    envAliases: ['ALLOWED_SUFFIXES'],
    arg: 'DOMAIN',
    defaultNote: 'any domain',
    help: 'only hostnames under these domains',
  },
  {
    name: 'extra-directive',
    repeatable: true,
    envAliases: ['EXTRA_DIRECTIVES'],
    arg: 'PLUGIN',
    help: "a custom CoreDNS build's plugin, so its Corefile parses",
  },
  {
    name: 'relay-service',
    arg: 'NAME',
    default: 'hairpin-relay',
    help: "the relay Service's name",
  },
  {
    name: 'debounce',
    arg: 'DURATION',
    default: formatDuration(DEFAULT_DEBOUNCE_MS),
    help: 'quiet time after the last change before a reconcile',
  },
  { name: 'debounce-ms', aliasOf: { name: 'debounce', unitMs: 1 }, arg: 'DURATION' },
  {
    name: 'lease-name',
    arg: 'NAME',
    default: 'hairpin-dns-controller',
    help: 'the leader-election Lease',
  },
  {
    name: 'pod-name',
    arg: 'NAME',
    defaultNote: 'hairpin-dns-controller-<process id>',
    help: 'identity in the Lease',
  },
  {
    name: 'discovery-interval',
    arg: 'DURATION',
    default: formatDuration(DEFAULT_DISCOVERY_INTERVAL_MS),
    help: 'how often to look for the Gateway API CRDs until they exist',
  },
  {
    name: 'discovery-interval-seconds',
    aliasOf: { name: 'discovery-interval', unitMs: 1000 },
    arg: 'DURATION',
  },
  ...COMMON_FLAGS,
];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;

/** NS/NAME[:KEY] */
export function parseTarget(spec: string, defaultKey: string): ConfigMapTarget | string {
  const m = /^([^/:]+)\/([^/:]+)(?::(.+))?$/.exec(spec);
  if (m === null) return `"${spec}" is not NAMESPACE/NAME[:KEY]`;
  const [, namespace = '', name = '', key = defaultKey] = m;
  if (!DNS_LABEL.test(namespace)) return `"${spec}": bad namespace`;
  if (!/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(name)) return `"${spec}": bad ConfigMap name`;
  if (!CONFIGMAP_KEY.test(key)) return `"${spec}": bad key`;
  return { namespace, name, key };
}

export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: { readonly readResolvConf?: () => string | undefined } = {},
): ControllerConfig {
  const flags = parseFlags(argv, env, CONTROLLER_FLAGS);
  const problems = [...flags.problems];
  for (const p of flags.positionals) problems.push(`unexpected argument ${p}`);

  const namespace = namespaceFlag(flags, problems);
  const common = commonConfig(flags, problems);
  const clusterDomain = clusterDomainFlag(flags, io.readResolvConf?.(), problems);
  const relayService = flagValue(flags, 'relay-service') ?? 'hairpin-relay';
  if (!DNS_LABEL.test(relayService))
    problems.push(`--relay-service ${JSON.stringify(relayService)} is not a Service name`);

  const importSpec = flagValue(flags, 'import-configmap');
  let importTarget: ConfigMapTarget | undefined;
  if (importSpec !== undefined) {
    const t = parseTarget(importSpec, 'hairpin.override');
    if (typeof t === 'string') problems.push(`--import-configmap ${t}`);
    else if (!t.key.endsWith('.override')) {
      // k3s and AKS import *.override keys into the root block; *.server keys at the top
      // level of the Corefile, where the managed templates are not valid.
      problems.push(
        `--import-configmap: key ${t.key} must end in .override (imported into the root block; .server keys are imported at the top level, where hairpin's templates are not valid)`,
      );
    } else importTarget = t;
  }
  const corefileSpecs =
    flags.values.get('coredns-configmap') ??
    (importSpec === undefined ? ['kube-system/coredns'] : []);
  const corefiles: ConfigMapTarget[] = [];
  for (const spec of corefileSpecs) {
    const t = parseTarget(spec, 'Corefile');
    if (typeof t === 'string') problems.push(`--coredns-configmap ${t}`);
    else corefiles.push(t);
  }

  const sources = (flagValue(flags, 'sources') ?? 'tls,rules')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const s of sources)
    if (s !== 'tls' && s !== 'rules')
      problems.push(`--sources: unknown source ${JSON.stringify(s)} (tls, rules)`);
  if (sources.length === 0) problems.push('--sources is empty');

  const gatewayApi = flagValue(flags, 'gateway-api') ?? 'auto';
  if (gatewayApi !== 'auto' && gatewayApi !== 'off')
    problems.push('--gateway-api must be auto or off');

  const allowedSuffixes = domainSuffixesFlag(flags, 'allowed-suffix', problems);

  const duration = (name: string, fallbackMs: number, minMs: number, maxMs: number): number =>
    durationFlag(flags, CONTROLLER_FLAGS, name, { fallbackMs, minMs, maxMs }, problems);
  const debounceMs = duration('debounce', DEFAULT_DEBOUNCE_MS, 0, 60_000);
  const discoveryIntervalMs = duration(
    'discovery-interval',
    DEFAULT_DISCOVERY_INTERVAL_MS,
    1000,
    86_400_000,
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...common,
    namespace,
    clusterDomain,
    relayFqdn: relayFqdn(relayService, namespace, clusterDomain),
    relayService,
    corefiles: Object.freeze(corefiles),
    importTarget,
    sources: Object.freeze(sources as IngressHostSource[]),
    ingressClasses: Object.freeze([...(flags.values.get('ingress-class') ?? [])]),
    gatewayClasses: Object.freeze([...(flags.values.get('gateway-class') ?? [])]),
    gatewayApi: gatewayApi === 'off' ? 'off' : 'auto',
    allowedSuffixes: Object.freeze(allowedSuffixes),
    extraDirectives: Object.freeze([...(flags.values.get('extra-directive') ?? [])]),
    debounceMs,
    leaseName: flagValue(flags, 'lease-name') ?? 'hairpin-dns-controller',
    podName: flagValue(flags, 'pod-name') ?? `hairpin-dns-controller-${process.pid}`,
    discoveryIntervalMs,
  });
}
