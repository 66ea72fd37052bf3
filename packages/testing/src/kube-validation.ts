// What the fake API server refuses, the way kube-apiserver (v1.24, checked against the
// recordings in fixtures/kube-api-conformance) refuses it: decoding errors (400), validation
// errors (422 with details.causes), and the normalisation a decode applies (MicroTime to
// UTC with six digits, metav1.Time truncated to seconds, fields the server does not know
// dropped). Only the kinds and fields hairpin reads or writes are modelled; see
// docs/fake-apiserver.md for what is not.

export interface StatusCause {
  readonly reason: string;
  readonly message: string;
  readonly field?: string;
}

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly uid?: string;
  readonly causes?: readonly StatusCause[];
  readonly retryAfterSeconds?: number;
}

/** A request the fake refuses; `status()` is the body the apiserver sends. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string | undefined;
  readonly details: StatusDetails | undefined;
  /** The Status's own metadata (a 410 on an old continue token carries a new one). */
  readonly listMeta: Record<string, unknown>;

  constructor(
    code: number,
    reason: string | undefined,
    message: string,
    details?: StatusDetails,
    listMeta: Record<string, unknown> = {},
  ) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
    this.listMeta = listMeta;
  }

  status(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: this.listMeta,
      status: 'Failure',
      message: this.message,
      ...(this.reason === undefined ? {} : { reason: this.reason }),
      ...(this.details === undefined ? {} : { details: this.details }),
      code: this.code,
    };
  }
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

// --- time --------------------------------------------------------------------------

const MICRO_LAYOUT = '2006-01-02T15:04:05.000000Z07:00';
const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** What Go's time.Parse says when a MicroTime does not fit its layout. */
function microTimeError(value: string): string | undefined {
  const m = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.exec(value);
  if (m === null) return `cannot parse ${JSON.stringify(value)} as "2006"`;
  const rest = value.slice(m[0].length);
  const frac = /^\.\d{6}/.exec(rest);
  if (frac === null) return `cannot parse "${rest}" as ".000000"`;
  const zone = rest.slice(7);
  if (!/^(Z|[+-]\d\d:\d\d)$/.test(zone)) return `cannot parse "${zone}" as "Z07:00"`;
  return undefined;
}

function toUtc(value: string): Date {
  return new Date(value);
}

/** A MicroTime as the server stores and serves it: UTC, six digits. */
function normaliseMicroTime(value: string): string {
  const m = RFC3339.exec(value)!;
  const micros = m[2]!.slice(1, 7);
  if (m[3] === 'Z') return `${m[1]}.${micros}Z`;
  const utc = toUtc(`${m[1]}${m[3]}`).toISOString().slice(0, 19);
  return `${utc}.${micros}Z`;
}

/** A metav1.Time as served: UTC, whole seconds. */
function normaliseTime(value: string): string {
  return `${toUtc(value).toISOString().slice(0, 19)}Z`;
}

// --- names -------------------------------------------------------------------------

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const WILDCARD_SUBDOMAIN = /^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const WILDCARD_MSG =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_NAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const CONFIG_KEY_MSG =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

const invalid = (field: string, value: string, detail: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
  field,
});

function subdomainErrors(field: string, value: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (value.length > 253) out.push(invalid(field, value, 'must be no more than 253 characters'));
  if (!DNS1123_SUBDOMAIN.test(value)) out.push(invalid(field, value, SUBDOMAIN_MSG));
  return out;
}

function isIPv4(value: string): boolean {
  return /^(\d{1,3})(\.\d{1,3}){3}$/.test(value);
}

// --- decode (400) ------------------------------------------------------------------

export interface KindInfo {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface DecodeOptions {
  /** false: drop Service status.loadBalancer.ingress[].ipMode, as servers before 1.29 do. */
  readonly serviceIpMode: boolean;
}

/** The MicroTime fields of a kind (dotted paths from the object's root). */
function microTimeFields(t: KindInfo): string[] {
  if (t.kind === 'Lease') return ['spec.acquireTime', 'spec.renewTime'];
  if (t.kind === 'Event') return ['eventTime', 'series.lastObservedTime'];
  return [];
}

function timeFields(t: KindInfo): string[] {
  if (t.kind === 'Event' && t.group === '') return ['firstTimestamp', 'lastTimestamp'];
  if (t.kind === 'Event') return ['deprecatedFirstTimestamp', 'deprecatedLastTimestamp'];
  return [];
}

function at(o: Json, path: string): { parent: Json; key: string } | undefined {
  const parts = path.split('.');
  let cur: unknown = o;
  for (const p of parts.slice(0, -1)) {
    if (!isObject(cur)) return undefined;
    cur = cur[p];
  }
  return isObject(cur) ? { parent: cur, key: parts[parts.length - 1]! } : undefined;
}

function cannotDecode(t: KindInfo, detail: string): ApiError {
  return new ApiError(
    400,
    'BadRequest',
    `${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: ${detail}`,
  );
}

/**
 * Decodes a request body the way the apiserver does: refuses what does not decode (400),
 * returns what it stores. `null` fields are dropped, as Go's omitempty does.
 */
export function decodeObject(t: KindInfo, input: Json, options: DecodeOptions): Json {
  const o = structuredClone(input);
  for (const path of microTimeFields(t)) {
    const a = at(o, path);
    const v = a?.parent[a.key];
    if (a === undefined || v === undefined) continue;
    if (v === null) {
      delete a.parent[a.key];
      continue;
    }
    const problem = typeof v === 'string' ? microTimeError(v) : 'not a string';
    if (problem !== undefined) {
      throw cannotDecode(t, `parsing time ${JSON.stringify(v)} as "${MICRO_LAYOUT}": ${problem}`);
    }
    a.parent[a.key] = normaliseMicroTime(v as string);
  }
  for (const path of timeFields(t)) {
    const a = at(o, path);
    const v = a?.parent[a.key];
    if (a === undefined || v === undefined || v === null) continue;
    if (typeof v !== 'string' || !RFC3339.test(v)) {
      throw cannotDecode(t, `parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05Z07:00"`);
    }
    a.parent[a.key] = normaliseTime(v);
  }
  if (t.kind === 'ConfigMap') {
    for (const v of Object.values(isObject(o['data']) ? o['data'] : {})) {
      if (typeof v !== 'string') {
        const jsonType =
          typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'bool' : 'object';
        throw cannotDecode(
          t,
          `json: cannot unmarshal ${jsonType} into Go struct field ConfigMap.data of type string`,
        );
      }
    }
    for (const v of Object.values(isObject(o['binaryData']) ? o['binaryData'] : {})) {
      const bad = typeof v === 'string' ? badBase64At(v) : 0;
      if (bad !== undefined) throw cannotDecode(t, `illegal base64 data at input byte ${bad}`);
    }
  }
  // Empty maps are not stored (Go's omitempty).
  const meta = isObject(o['metadata']) ? o['metadata'] : {};
  for (const [parent, key] of [
    [o, 'data'],
    [o, 'binaryData'],
    [meta, 'labels'],
    [meta, 'annotations'],
  ] as const) {
    const v = parent[key];
    if (v === null || (isObject(v) && Object.keys(v).length === 0)) delete parent[key];
  }
  if (t.kind === 'Service' && !options.serviceIpMode) {
    const lb = (o['status'] as Json | undefined)?.['loadBalancer'] as Json | undefined;
    const ingress = lb?.['ingress'];
    if (Array.isArray(ingress)) for (const e of ingress) if (isObject(e)) delete e['ipMode'];
  }
  if (t.kind === 'Event' && t.group === '') {
    // events.k8s.io spellings are unknown fields on core/v1 Events: dropped.
    for (const k of ['reportingController', 'note', 'regarding', 'related']) delete o[k];
  }
  return o;
}

/** Index of the first byte Go's base64 decoder refuses, or undefined when it decodes. */
function badBase64At(s: string): number | undefined {
  const i = s.search(/[^A-Za-z0-9+/=]/);
  if (i >= 0) return i;
  if (s.length % 4 !== 0) return s.length - (s.length % 4);
  return undefined;
}

// --- validate (422) ------------------------------------------------------------------

function metadataErrors(o: Json): StatusCause[] {
  const meta = isObject(o['metadata']) ? o['metadata'] : {};
  const out: StatusCause[] = [];
  const name = typeof meta['name'] === 'string' ? meta['name'] : '';
  if (name === '' && !(typeof meta['generateName'] === 'string' && meta['generateName'] !== '')) {
    out.push({
      reason: 'FieldValueRequired',
      message: 'Required value: name or generateName is required',
      field: 'metadata.name',
    });
  } else if (name !== '') {
    out.push(...subdomainErrors('metadata.name', name));
  }
  for (const key of Object.keys(isObject(meta['labels']) ? meta['labels'] : {})) {
    const namePart = key.includes('/') ? key.slice(key.indexOf('/') + 1) : key;
    if (namePart.length > 63 || !LABEL_NAME.test(namePart))
      out.push(invalid('metadata.labels', key, LABEL_NAME_MSG));
  }
  return out;
}

function configMapErrors(o: Json): StatusCause[] {
  const out: StatusCause[] = [];
  const data = isObject(o['data']) ? (o['data'] as Record<string, string>) : {};
  const binary = isObject(o['binaryData']) ? (o['binaryData'] as Record<string, string>) : {};
  let size = 0;
  for (const [field, map] of [
    ['data', data],
    ['binaryData', binary],
  ] as const) {
    for (const [key, value] of Object.entries(map)) {
      const f = `${field}[${key}]`;
      if (key === '.' || key === '..') out.push(invalid(f, key, `must not be '${key}'`));
      else if (!CONFIG_KEY.test(key)) out.push(invalid(f, key, CONFIG_KEY_MSG));
      else if (key.length > 253) out.push(invalid(f, key, 'must be no more than 253 characters'));
      if (field === 'data' && key in binary)
        out.push(invalid(f, key, 'duplicate of key present in binaryData'));
      size += field === 'data' ? Buffer.byteLength(value) : Buffer.from(value, 'base64').byteLength;
    }
  }
  // The SUM of the values, at most 1 MiB (that exact size is allowed).
  if (size > 1_048_576) {
    out.push({
      reason: 'FieldValueTooLong',
      message: 'Too long: must have at most 1048576 bytes',
      field: '[]',
    });
  }
  return out;
}

function ingressErrors(o: Json): StatusCause[] {
  const out: StatusCause[] = [];
  const spec = isObject(o['spec']) ? o['spec'] : {};
  const rules = Array.isArray(spec['rules']) ? spec['rules'] : [];
  rules.forEach((rule: unknown, i) => {
    const host = isObject(rule) ? rule['host'] : undefined;
    if (typeof host !== 'string' || host === '') return;
    const field = `spec.rules[${i}].host`;
    if (isIPv4(host)) out.push(invalid(field, host, 'must be a DNS name, not an IP address'));
    else if (host.includes('*')) {
      if (!WILDCARD_SUBDOMAIN.test(host)) out.push(invalid(field, host, WILDCARD_MSG));
    } else out.push(...subdomainErrors(field, host));
  });
  const tls = Array.isArray(spec['tls']) ? spec['tls'] : [];
  tls.forEach((entry: unknown, i) => {
    const hosts = isObject(entry) && Array.isArray(entry['hosts']) ? entry['hosts'] : [];
    hosts.forEach((host: unknown, j) => {
      if (typeof host !== 'string') return;
      const field = `spec.tls[${i}].hosts[${j}]`;
      if (host.includes('*')) {
        if (!WILDCARD_SUBDOMAIN.test(host)) out.push(invalid(field, host, WILDCARD_MSG));
      } else if (!isIPv4(host)) out.push(...subdomainErrors(field, host));
    });
  });
  return out;
}

function serviceErrors(o: Json): StatusCause[] {
  const spec = isObject(o['spec']) ? o['spec'] : {};
  if (spec['type'] === 'ExternalName') return [];
  const ports = spec['ports'];
  return Array.isArray(ports) && ports.length > 0
    ? []
    : [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.ports' }];
}

function legacyEventErrors(o: Json, namespace: string | undefined): StatusCause[] {
  if (o['eventTime'] !== undefined) return []; // "new" Events: not modelled
  const involved = isObject(o['involvedObject']) ? o['involvedObject'] : {};
  const ns = typeof involved['namespace'] === 'string' ? involved['namespace'] : '';
  const ok = ns === '' ? namespace === undefined || namespace === 'default' : ns === namespace;
  return ok ? [] : [invalid('involvedObject.namespace', ns, 'does not match event.namespace')];
}

/** A 422 for one field, named the way validateObject names its errors. */
export function invalidField(t: KindInfo, name: string, cause: StatusCause): ApiError {
  return new ApiError(
    422,
    'Invalid',
    `${t.kind} ${JSON.stringify(name)} is invalid: ${cause.field}: ${cause.message}`,
    { name, kind: t.kind, causes: [cause] },
  );
}

/**
 * The 422 the apiserver answers for an invalid object, or undefined. `namespace` is the
 * request's. Ingress errors name the internal kind Ingress.extensions, as v1.24 does.
 */
export function validateObject(
  t: KindInfo,
  o: Json,
  namespace: string | undefined,
): ApiError | undefined {
  const causes = [...metadataErrors(o)];
  if (t.kind === 'ConfigMap') causes.push(...configMapErrors(o));
  if (t.kind === 'Ingress') causes.push(...ingressErrors(o));
  if (t.kind === 'Service') causes.push(...serviceErrors(o));
  if (t.kind === 'Event' && t.group === '') causes.push(...legacyEventErrors(o, namespace));
  if (causes.length === 0) return undefined;
  const meta = isObject(o['metadata']) ? o['metadata'] : {};
  const name = typeof meta['name'] === 'string' ? meta['name'] : '';
  const group = t.kind === 'Ingress' ? 'extensions' : t.group;
  const qualified = group === '' ? t.kind : `${t.kind}.${group}`;
  const summary = causes.map((c) => `${c.field}: ${c.message}`);
  return new ApiError(
    422,
    'Invalid',
    `${qualified} ${JSON.stringify(name)} is invalid: ${summary.length === 1 ? summary[0] : `[${summary.join(', ')}]`}`,
    {
      ...(name === '' ? {} : { name }),
      ...(group === '' ? {} : { group }),
      kind: t.kind,
      causes,
    },
  );
}
