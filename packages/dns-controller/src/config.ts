// hairpin-dns-controller configuration: flags with environment twins (docs/install.md, Configuration),
// parsed once at the edge; every problem reported at once; the result frozen.
import {
  checkHostnameSyntax,
  commonConfig,
  COMMON_FLAGS,
  ConfigError,
  namespaceFlag,
  type CommonConfig,
  flagValue,
  parseFlags,
  type FlagSpec,
  type IngressHostSource,
} from '@hairpin/shared';

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

export const CONTROLLER_FLAGS: readonly FlagSpec[] = [
  { name: 'namespace', env: 'POD_NAMESPACE' },
  { name: 'cluster-domain' },
  { name: 'coredns-configmap', env: 'COREDNS_CONFIGMAPS', repeatable: true },
  { name: 'import-configmap' },
  { name: 'sources' },
  { name: 'ingress-class', env: 'INGRESS_CLASSES', repeatable: true },
  { name: 'gateway-class', env: 'GATEWAY_CLASSES', repeatable: true },
  { name: 'gateway-api' },
  { name: 'allowed-suffix', env: 'ALLOWED_SUFFIXES', repeatable: true },
  { name: 'extra-directive', env: 'EXTRA_DIRECTIVES', repeatable: true },
  { name: 'relay-service' },
  { name: 'debounce-ms' },
  { name: 'lease-name' },
  { name: 'pod-name' },
  { name: 'discovery-interval-seconds' },
  ...COMMON_FLAGS,
];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;

/** `search hairpin.svc.cluster.local svc.cluster.local cluster.local` → cluster.local */
export function clusterDomainFromResolvConf(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = /^\s*search\s+(.+)$/.exec(line);
    if (m === null) continue;
    for (const domain of m[1]!.split(/\s+/)) {
      const i = domain.indexOf('.svc.');
      if (i !== -1) return domain.slice(i + 5).replace(/\.$/, '');
    }
  }
  return undefined;
}

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
  io: { readResolvConf: () => string | undefined } = { readResolvConf: () => undefined },
): ControllerConfig {
  const flags = parseFlags(argv, env, CONTROLLER_FLAGS);
  const problems = [...flags.problems];
  for (const p of flags.positionals) problems.push(`unexpected argument ${p}`);

  const namespace = namespaceFlag(flags, problems);
  const common = commonConfig(flags, problems);
  const clusterDomain = (
    flagValue(flags, 'cluster-domain') ??
    clusterDomainFromResolvConf(io.readResolvConf() ?? '') ??
    'cluster.local'
  ).replace(/\.$/, '');
  if (!checkHostnameSyntax(clusterDomain).ok && clusterDomain !== 'local') {
    problems.push(`--cluster-domain ${JSON.stringify(clusterDomain)} is not a DNS name`);
  }
  const relayService = flagValue(flags, 'relay-service') ?? 'hairpin-relay';
  if (!DNS_LABEL.test(relayService))
    problems.push(`--relay-service ${JSON.stringify(relayService)} is not a Service name`);

  const importSpec = flagValue(flags, 'import-configmap');
  let importTarget: ConfigMapTarget | undefined;
  if (importSpec !== undefined) {
    const t = parseTarget(importSpec, 'hairpin.override');
    if (typeof t === 'string') problems.push(`--import-configmap ${t}`);
    else if (!t.key.endsWith('.override') && !t.key.endsWith('.server')) {
      problems.push(
        `--import-configmap: key ${t.key} must end in .override (imported into the root block)`,
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

  const allowedSuffixes = (flags.values.get('allowed-suffix') ?? []).map((s) =>
    s
      .toLowerCase()
      .replace(/^\*?\./, '')
      .replace(/\.$/, ''),
  );
  for (const s of allowedSuffixes)
    if (!checkHostnameSyntax(s).ok)
      problems.push(`--allowed-suffix ${JSON.stringify(s)} is not a DNS name`);

  const number = (name: string, fallback: number, min: number, max: number): number => {
    const raw = flagValue(flags, name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) {
      problems.push(`--${name} ${JSON.stringify(raw)}: expected a number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...common,
    namespace,
    clusterDomain,
    relayFqdn: `${relayService}.${namespace}.svc.${clusterDomain}`,
    relayService,
    corefiles: Object.freeze(corefiles),
    importTarget,
    sources: Object.freeze(sources as IngressHostSource[]),
    ingressClasses: Object.freeze([...(flags.values.get('ingress-class') ?? [])]),
    gatewayClasses: Object.freeze([...(flags.values.get('gateway-class') ?? [])]),
    gatewayApi: gatewayApi === 'off' ? 'off' : 'auto',
    allowedSuffixes: Object.freeze(allowedSuffixes),
    extraDirectives: Object.freeze([...(flags.values.get('extra-directive') ?? [])]),
    debounceMs: number('debounce-ms', 50, 0, 60_000),
    leaseName: flagValue(flags, 'lease-name') ?? 'hairpin-dns-controller',
    podName: flagValue(flags, 'pod-name') ?? `hairpin-dns-controller-${process.pid}`,
    discoveryIntervalMs: number('discovery-interval-seconds', 60, 1, 86_400) * 1000,
  });
}
