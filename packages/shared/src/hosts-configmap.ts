// The ConfigMap the dns-controller publishes for the hosts agents (docs/hosts-agent.md:
// `hairpin/hairpin-hosts`): the decided host set and the relay Service's ClusterIP.
// Both sides use these two functions, so the format lives in one place. The agent
// re-validates what it reads: the ConfigMap is an input like any other.
import { isIP } from 'node:net';
import { checkHostname, type HostnamePolicy } from './hostname.ts';
import { sortedUnique } from './sorted-unique.ts';

export const HOSTS_CONFIGMAP_NAME = 'hairpin-hosts';
/** data key: one hostname per line, sorted. */
export const HOSTS_KEY = 'hosts';
/** data key: the relay Service's ClusterIP that the hosts point at. */
export const RELAY_IP_KEY = 'relayIP';
/**
 * data key: the hosts meant for nodes (their object is annotated NODE_HOSTS_ANNOTATION),
 * one per line, a subset of HOSTS_KEY. Absent when no object asks for it: agents in
 * `auto` mode then write every host, as before the key existed.
 */
export const NODE_HOSTS_KEY = 'nodeHosts';
/** The annotation, on an Ingress, Gateway or HTTPRoute, that puts its hosts in NODE_HOSTS_KEY. */
export const NODE_HOSTS_ANNOTATION = 'hairpin.dev/node-hosts';
/** data keys, only while DNS is full: hosts left out (the first ones, one per line), and how many in all. */
export const NOT_SERVED_KEY = 'notServed';
export const NOT_SERVED_COUNT_KEY = 'notServedCount';

export interface PublishedHosts {
  readonly hosts: readonly string[];
  readonly relayIP: string;
  /** undefined: no object selects node hosts (the key is absent). */
  readonly nodeHosts?: readonly string[] | undefined;
  /** Hosts not served for capacity: as many as are listed, and how many in all. */
  readonly notServed?: readonly string[] | undefined;
  readonly notServedCount?: number | undefined;
}

const lines = (hosts: readonly string[]): string =>
  hosts.length === 0 ? '' : `${sortedUnique(hosts).join('\n')}\n`;

export function encodePublishedHosts(published: PublishedHosts): Record<string, string> {
  const count = published.notServedCount ?? published.notServed?.length ?? 0;
  return {
    [HOSTS_KEY]: lines(published.hosts),
    [RELAY_IP_KEY]: published.relayIP,
    ...(published.nodeHosts === undefined ? {} : { [NODE_HOSTS_KEY]: lines(published.nodeHosts) }),
    ...(count === 0
      ? {}
      : {
          [NOT_SERVED_KEY]: (published.notServed ?? []).map((h) => `${h}\n`).join(''),
          [NOT_SERVED_COUNT_KEY]: String(count),
        }),
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
  const refused: string[] = [];
  const read = (key: string): string[] => {
    const hosts = new Set<string>();
    for (const line of (data?.[key] ?? '').split('\n')) {
      const raw = line.trim();
      if (raw === '') continue;
      const check = checkHostname(raw, policy);
      if (check.ok) hosts.add(check.host);
      else if (key === HOSTS_KEY) refused.push(raw);
    }
    return [...hosts].sort();
  };
  const hosts = read(HOSTS_KEY);
  const served = new Set(hosts);
  const nodeHosts =
    data?.[NODE_HOSTS_KEY] === undefined
      ? undefined
      : read(NODE_HOSTS_KEY).filter((h) => served.has(h));
  const notServed = read(NOT_SERVED_KEY);
  const count = Number(data?.[NOT_SERVED_COUNT_KEY] ?? notServed.length);
  const value: PublishedHosts = {
    hosts,
    relayIP,
    ...(nodeHosts === undefined ? {} : { nodeHosts }),
    ...(count > 0 || notServed.length > 0
      ? { notServed, notServedCount: Number.isSafeInteger(count) ? count : notServed.length }
      : {}),
  };
  return { ok: true, value, refused };
}
