// How each corpus Corefile runs in the test CoreDNS: the template rendering or environment
// it needs before prepareCorefile, or why it cannot run at all. Corefiles not listed need
// nothing beyond prepareCorefile. The corpus test (test/coredns-corpus.test.ts) starts every
// file through this table, so a new corpus file that cannot run fails there until listed.
import type { CorpusFile } from './corpus.ts';
import { prepareCorefile, type PrepareCorefileOptions } from './coredns-prepare.ts';

export interface CorpusRun {
  /** Passed to prepareCorefile: another tool's template, rendered as that tool does. */
  readonly render?: PrepareCorefileOptions['render'];
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Why `render` changes more than a template placeholder: what CoreDNS 1.10 refuses in the
   * file and what that costs (which names the file no longer judges).
   */
  readonly adapted?: string;
  /** Why the file cannot run in the test CoreDNS (then it is never started). */
  readonly unrunnable?: string;
}

const clusterDomain = (placeholder: string): CorpusRun => ({
  render: [[placeholder, 'cluster.local']],
});

/** Keyed by corpus name (`corefiles/...`). */
export const CORPUS_RUNS: Readonly<Record<string, CorpusRun>> = {
  'corefiles/aks-engine-legacy.template.Corefile': {
    unrunnable:
      'uses the `proxy` plugin (removed in CoreDNS 1.6) and `kubernetes { upstream }` (removed in 1.7): CoreDNS 1.10 refuses it',
  },
  'corefiles/openshift-dns-operator.default_corefile_ocp_dnsnameresolver.Corefile': {
    unrunnable: 'uses `ocp_dnsnameresolver`, an OpenShift plugin not compiled into CoreDNS',
  },
  // cluster/addons/dns/coredns: `sed s/__DNS__DOMAIN__/cluster.local/`.
  'corefiles/k8s-cluster-addons.base.Corefile': clusterDomain('__DNS__DOMAIN__'),
  // k3s renders %{CLUSTER_DOMAIN}% from its --cluster-domain.
  'corefiles/k3s.template.Corefile': clusterDomain('%{CLUSTER_DOMAIN}%'),
  'corefiles/k3s-v1.21-era.template.Corefile': clusterDomain('%{CLUSTER_DOMAIN}%'),
  // kubeadm's Go template with DNSDomain set: `{{-` trims the whitespace before it.
  'corefiles/kubeadm-latest.gotemplate.Corefile': {
    render: [
      [/\s*\{\{- if \.DNSDomain \}\}/g, ''],
      [/\s*\{\{- end \}\}/g, ''],
      ['{{ .DNSDomain }}', 'cluster.local'],
    ],
  },
  // microk8s's dns addon: its default cluster domain and upstreams.
  'corefiles/microk8s.template.Corefile': {
    render: [
      ['$CLUSTERDOMAIN', 'cluster.local'],
      ['$NAMESERVERS', '8.8.8.8 8.8.4.4'],
    ],
  },
  // coredns/deployment's deploy.sh, without stub domains (gives the .rendered file).
  'corefiles/coredns-deployment-k8s.sed.Corefile': {
    render: [
      ['CLUSTER_DOMAIN', 'cluster.local'],
      ['REVERSE_CIDRS', 'in-addr.arpa ip6.arpa'],
      ['UPSTREAMNAMESERVER', '/etc/resolv.conf'],
      ['STUBDOMAINS', ''],
    ],
  },
  'corefiles/kubespray-docs-example.rendered.Corefile': {
    unrunnable:
      'its mydomain.tld block has `rewrite name stop X Y` (the syntax is `rewrite stop name ...`), which CoreDNS refuses at setup; CoreDNS 1.10 also refuses its `cache 0`',
  },
  'corefiles/synthetic/rewrite-all-forms.Corefile': {
    render: [[/^ *rewrite (?:rcode .*|cname .*|edns0 local set 0xffee abcd revert)\r?\n/gm, '']],
    adapted:
      'CoreDNS 1.10 lacks `rewrite rcode`, `rewrite cname` and `edns0 local ... revert` (1.11+); those three lines are dropped, so names under coredns.rocks and cdn.example.net are not judged with this file',
  },
  'corefiles/synthetic/env-placeholders.Corefile': {
    env: {
      DNS_PORT: '53',
      UPSTREAM_SERVERS: '/etc/resolv.conf',
      UPSTREAM_NAME: 'dns.example.net',
      HOSTNAME: 'coredns-test',
      NODE_IP: '10.0.0.5',
      ZONE: 'example.org',
    },
  },
};

/** Files the corpus marks as broken (`invalid-*`): CoreDNS must refuse them. */
export function isInvalidCorpusFile(name: string): boolean {
  return /(^|\/)invalid-[^/]*$/.test(name);
}

/** A corpus Corefile CoreDNS can start (prepared): neither invalid nor listed unrunnable. */
export function isRunnableCorpusFile(name: string): boolean {
  return !isInvalidCorpusFile(name) && CORPUS_RUNS[name]?.unrunnable === undefined;
}

/**
 * A corpus Corefile (or an edit of one: pass its text) made runnable: the table's rendering
 * and environment, then prepareCorefile with `options`. Throws for an unrunnable file.
 */
export function prepareCorpusCorefile(
  file: CorpusFile,
  options: Omit<PrepareCorefileOptions, 'render' | 'env'>,
): string {
  const run = CORPUS_RUNS[file.name] ?? {};
  if (run.unrunnable !== undefined) throw new Error(`${file.name} cannot run: ${run.unrunnable}`);
  return prepareCorefile(file.text, {
    ...options,
    ...(run.render === undefined ? {} : { render: run.render }),
    ...(run.env === undefined ? {} : { env: run.env }),
  });
}
