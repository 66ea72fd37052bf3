// The one gate every hostname passes before it may reach a Corefile or a hosts file
// (docs/hostnames-and-hosts-file.md). Ingress and route hosts are written by
// tenants: anything that is not a plain RFC 1123 DNS name, or that would redirect
// cluster-internal or loopback names, is refused with a stable reason code.
import { isIP } from 'node:net';

export type HostRejectReason =
  | 'not_a_string'
  | 'empty'
  | 'too_long'
  | 'label_too_long'
  | 'invalid_characters'
  | 'bad_wildcard'
  | 'ip_literal'
  | 'single_label'
  | 'localhost'
  | 'reverse_zone'
  | 'cluster_domain'
  | 'not_allowed_suffix';

export interface HostnamePolicy {
  /** e.g. "cluster.local": names under it are always refused. */
  readonly clusterDomain: string;
  /** Lower-cased suffixes such as "example.com"; empty means every valid name is allowed. */
  readonly allowedSuffixes: readonly string[];
}

export type HostCheck =
  | { readonly ok: true; readonly host: string }
  | { readonly ok: false; readonly reason: HostRejectReason; readonly message: string };

/** RFC 1123 §2.1 label: letters, digits, hyphens; not starting or ending with a hyphen. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/**
 * The common case in one test: two or more lower-case RFC 1123 labels, no wildcard. Such
 * a name passes every check below unless its last label is numeric (an IP address).
 */
const PLAIN_NAME =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const NUMERIC_LAST_LABEL = /\.[0-9]+$/;
/** RFC 1035 §2.3.4: 253 octets in text form (255 on the wire). */
const MAX_NAME = 253;
const MAX_LABEL = 63;

const LOCALHOST_NAMES = new Set(['localhost', 'localhost.localdomain']);
/**
 * The reverse-lookup zones: CoreDNS's kubernetes plugin answers PTR queries for the
 * cluster's ranges in them (`kubernetes cluster.local in-addr.arpa ip6.arpa`), and a
 * rewrite there would redirect reverse lookups of pods and services.
 */
const REVERSE_ZONES = ['in-addr.arpa', 'ip6.arpa'];

function refuse(reason: HostRejectReason, message: string): HostCheck {
  return { ok: false, reason, message };
}

/**
 * The common case of checkHostnameSyntax, without its result object: true means it would
 * accept `name` as it is (false: ask it).
 */
export function isPlainHostname(name: string): boolean {
  return name.length <= MAX_NAME && PLAIN_NAME.test(name) && !NUMERIC_LAST_LABEL.test(name);
}

/** Syntax only: is `name` a valid DNS name or a `*.` wildcard over one (lower case)? */
export function checkHostnameSyntax(raw: unknown): HostCheck {
  if (typeof raw !== 'string') {
    const kind = Array.isArray(raw) ? 'an array' : raw === null ? 'null' : `a ${typeof raw}`;
    return refuse('not_a_string', `hostname is not a string but ${kind}`);
  }
  if (raw === '') return refuse('empty', 'hostname is empty');
  // Length is checked before anything else looks at the string: hostile input can be huge.
  if (raw.length > MAX_NAME) {
    return refuse('too_long', `hostname is longer than ${MAX_NAME} bytes`);
  }
  // Fast path (20,000 hosts are checked per edit): exactly what the checks below decide.
  if (isPlainHostname(raw)) return { ok: true, host: raw };
  const host = raw.toLowerCase();
  if (isIP(host) !== 0 || (host.startsWith('[') && host.endsWith(']'))) {
    return refuse('ip_literal', `"${printable(raw)}" is an IP address, not a hostname`);
  }
  const labels = host.split('.');
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label === '*' && i === 0) continue;
    if (label.includes('*')) {
      return refuse(
        'bad_wildcard',
        `"${printable(raw)}": a wildcard must be the whole leftmost label`,
      );
    }
    if (label.length > MAX_LABEL) {
      return refuse(
        'label_too_long',
        `"${printable(raw)}": a label is longer than ${MAX_LABEL} bytes`,
      );
    }
    if (!LABEL.test(label)) {
      return refuse(
        'invalid_characters',
        `"${printable(raw)}" is not a valid DNS name (RFC 1123: letters, digits, hyphens, dots between labels)`,
      );
    }
  }
  const named = labels[0] === '*' ? labels.slice(1) : labels;
  if (named.length < 2) {
    return labels[0] === '*'
      ? refuse(
          'bad_wildcard',
          `"${printable(raw)}": a wildcard must cover a name of two labels or more`,
        )
      : refuse('single_label', `"${printable(raw)}" is a single-label name`);
  }
  // A numeric last label is never a TLD: such names are IPv4 addresses in other spellings
  // (127.1, 0x7f.0.0.1 is already refused by the label rule) that resolvers may accept.
  if (/^[0-9]+$/.test(named[named.length - 1]!)) {
    return refuse(
      'ip_literal',
      `"${printable(raw)}" looks like an IP address (numeric last label)`,
    );
  }
  return { ok: true, host };
}

/** The full policy: syntax, then the names that are never hairpinned, then suffixes. */
export function checkHostname(raw: unknown, policy: HostnamePolicy): HostCheck {
  const syntax = checkHostnameSyntax(raw);
  if (!syntax.ok) return syntax;
  const { host } = syntax;
  const bare = host.startsWith('*.') ? host.slice(2) : host;
  const last = bare.slice(bare.lastIndexOf('.') + 1);
  if (LOCALHOST_NAMES.has(bare) || last === 'localhost') {
    return refuse('localhost', `"${host}" is a loopback name`);
  }
  const zone = REVERSE_ZONES.find((z) => isUnder(bare, z));
  if (zone !== undefined) {
    return refuse('reverse_zone', `"${host}" is in the reverse-lookup zone ${zone}`);
  }
  const cluster = policy.clusterDomain.toLowerCase().replace(/\.$/, '');
  if (cluster !== '' && isUnder(bare, cluster)) {
    return refuse('cluster_domain', `"${host}" is under the cluster domain ${cluster}`);
  }
  if (
    policy.allowedSuffixes.length > 0 &&
    !policy.allowedSuffixes.some((s) => isUnder(bare, s.toLowerCase().replace(/^\*?\./, '')))
  ) {
    return refuse(
      'not_allowed_suffix',
      `"${host}" is not under an allowed domain (${policy.allowedSuffixes.join(', ')})`,
    );
  }
  return { ok: true, host };
}

/** `name` equals `domain` or ends in `.domain`. */
function isUnder(name: string, domain: string): boolean {
  return name === domain || name.endsWith(`.${domain}`);
}

/** Hostile names go into log lines and Events: show them escaped and bounded. */
function printable(raw: string): string {
  const escaped = JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw);
  return escaped.slice(1, -1);
}
