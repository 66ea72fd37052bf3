// The ConfigMap the dns-controller publishes for the hosts agents (docs/hosts-agent.md:
// `hairpin/hairpin-hosts`): the decided host set and the relay Service's ClusterIP.
// Both sides use these two functions, so the format lives in one place. The agent
// re-validates what it reads: the ConfigMap is an input like any other.
import { isIP } from 'node:net';
import { checkHostname, type HostnamePolicy } from './hostname.ts';

export const HOSTS_CONFIGMAP_NAME = 'hairpin-hosts';
/** data key: one hostname per line, sorted. */
export const HOSTS_KEY = 'hosts';
/** data key: the relay Service's ClusterIP that the hosts point at. */
export const RELAY_IP_KEY = 'relayIP';

export interface PublishedHosts {
  readonly hosts: readonly string[];
  readonly relayIP: string;
}

export function encodePublishedHosts(published: PublishedHosts): Record<string, string> {
  const hosts = [...new Set(published.hosts)].sort();
  return {
    [HOSTS_KEY]: hosts.map((h) => `${h}\n`).join(''),
    [RELAY_IP_KEY]: published.relayIP,
  };
}

export type DecodedHosts =
  | { readonly ok: true; readonly value: PublishedHosts; readonly refused: readonly string[] }
  | { readonly ok: false; readonly error: string };

/**
 * Reads ConfigMap data back. A bad relay IP is an error (nothing can be written); a
 * hostname that fails the policy is dropped and listed in `refused`, never written.
 */
export function decodePublishedHosts(
  data: Readonly<Record<string, string>> | undefined,
  policy: HostnamePolicy,
): DecodedHosts {
  const relayIP = data?.[RELAY_IP_KEY]?.trim() ?? '';
  if (isIP(relayIP) === 0) {
    return { ok: false, error: `data.${RELAY_IP_KEY} "${relayIP}" is not an IP address` };
  }
  const hosts = new Set<string>();
  const refused: string[] = [];
  for (const line of (data?.[HOSTS_KEY] ?? '').split('\n')) {
    const raw = line.trim();
    if (raw === '') continue;
    const check = checkHostname(raw, policy);
    if (check.ok) hosts.add(check.host);
    else refused.push(raw);
  }
  return { ok: true, value: { hosts: [...hosts].sort(), relayIP }, refused };
}
