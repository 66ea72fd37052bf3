// STUB: owned by the hostname/hosts-file helper; signatures are the contract.
export type HostRejectReason =
  | 'not-a-string'
  | 'empty'
  | 'too-long'
  | 'label-too-long'
  | 'invalid-characters'
  | 'bad-wildcard'
  | 'ip-literal'
  | 'single-label'
  | 'localhost'
  | 'cluster-domain'
  | 'not-allowed-suffix';

export interface HostnamePolicy {
  /** e.g. "cluster.local": names under it are always refused. */
  readonly clusterDomain: string;
  /** Lower-cased suffixes such as "example.com"; empty means every valid name is allowed. */
  readonly allowedSuffixes: readonly string[];
}

export type HostCheck =
  | { readonly ok: true; readonly host: string }
  | { readonly ok: false; readonly reason: HostRejectReason; readonly message: string };

/** The one gate every hostname passes before it may reach a Corefile or hosts file. */
export function checkHostname(raw: unknown, policy: HostnamePolicy): HostCheck {
  void raw;
  void policy;
  throw new Error('not implemented');
}
