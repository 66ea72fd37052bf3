// Request parameters the fake API server understands, parsed the way kube-apiserver
// parses them: label and field selectors, patches, list continue tokens.
import { ApiError } from './kube-validation.ts';

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    labels?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
};

type Matcher = (o: KubeObject) => boolean;

const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);

/** Label selector: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`. */
export function labelSelector(text: string): Matcher {
  const terms: Matcher[] = [];
  let rest = text.trim();
  while (rest !== '') {
    const set = /^([^\s,!=()]+)\s+(in|notin)\s+\(([^)]*)(\)?)/.exec(rest);
    if (set !== null) {
      if (set[4] === '')
        throw badRequest("unable to parse requirement: found '', expected: ',' or ')'");
      const [, key, op, list] = set as unknown as [string, string, string, string];
      const values = new Set(list.split(',').map((v) => v.trim()));
      terms.push((o) => {
        const v = o.metadata?.labels?.[key];
        return op === 'in' ? v !== undefined && values.has(v) : v === undefined || !values.has(v);
      });
      rest = rest.slice(set[0].length);
    } else {
      const m = /^(!?)([^\s,!=()]+)\s*(?:(==|=|!=)\s*([^\s,()]*))?/.exec(rest);
      if (m === null) throw badRequest(`unable to parse requirement: ${rest}`);
      const [, not, key, op, value = ''] = m as unknown as [
        string,
        string,
        string,
        string | undefined,
        string | undefined,
      ];
      if (op === undefined) {
        terms.push((o) => (o.metadata?.labels?.[key] !== undefined) !== (not === '!'));
      } else if (op === '!=') {
        terms.push((o) => o.metadata?.labels?.[key] !== value);
      } else {
        terms.push((o) => o.metadata?.labels?.[key] === value);
      }
      rest = rest.slice(m[0].length);
    }
    rest = rest.replace(/^\s*,\s*/, '');
  }
  return (o) => terms.every((t) => t(o));
}

/** Field selector: only metadata.name and metadata.namespace, as for ConfigMaps and Services. */
type FieldGetter = (o: KubeObject) => unknown;

const COMMON_FIELDS: Readonly<Record<string, FieldGetter>> = {
  'metadata.name': (o) => o.metadata?.name,
  'metadata.namespace': (o) => o.metadata?.namespace ?? '',
};

const at =
  (...path: string[]): FieldGetter =>
  (o) =>
    path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o) ?? '';

/** The extra fields kube-apiserver selects core/v1 Events by (pkg/registry/core/event). */
const EVENT_FIELDS: Readonly<Record<string, FieldGetter>> = {
  ...COMMON_FIELDS,
  'involvedObject.kind': at('involvedObject', 'kind'),
  'involvedObject.namespace': at('involvedObject', 'namespace'),
  'involvedObject.name': at('involvedObject', 'name'),
  'involvedObject.uid': at('involvedObject', 'uid'),
  'involvedObject.apiVersion': at('involvedObject', 'apiVersion'),
  reason: at('reason'),
  reportingComponent: at('reportingComponent'),
  source: at('source', 'component'),
  type: at('type'),
};

/** Field selectors of `kind`: metadata.name and metadata.namespace, and Event's own. */
export function fieldSelector(text: string, kind?: string): Matcher {
  const fields = kind === 'Event' ? EVENT_FIELDS : COMMON_FIELDS;
  const terms: Matcher[] = [];
  for (const term of text.split(',').filter((t) => t !== '')) {
    const m = /^([^!=]+)(==|=|!=)(.*)$/.exec(term);
    if (m === null) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    const get = Object.hasOwn(fields, field) ? fields[field] : undefined;
    if (get === undefined) {
      throw badRequest(
        `"${field}" is not a known field selector: only ${Object.keys(fields)
          .map((f) => `"${f}"`)
          .join(', ')}`,
      );
    }
    terms.push(op === '!=' ? (o) => get(o) !== value : (o) => get(o) === value);
  }
  return (o) => terms.every((t) => t(o));
}

/** JSON merge patch (RFC 7386); a strategic merge patch of a ConfigMap is the same. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
    return structuredClone(patch);
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** JSON patch (RFC 6902): add, replace, remove, test. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json patch must be an array of operations');
  const doc = structuredClone(target) as Record<string, unknown>;
  for (const op of ops as { op?: string; path?: string; value?: unknown }[]) {
    const parts = (op.path ?? '')
      .split('/')
      .slice(1)
      .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = parts.pop();
    let parent: unknown = doc;
    for (const p of parts) parent = (parent as Record<string, unknown> | undefined)?.[p];
    if (typeof parent !== 'object' || parent === null || last === undefined)
      throw new ApiError(422, 'Invalid', `doc is missing path: "${op.path ?? ''}"`);
    const container = parent as Record<string, unknown>;
    if (op.op === 'remove') delete container[last];
    else if (op.op === 'add' || op.op === 'replace') container[last] = structuredClone(op.value);
    else if (op.op === 'test') {
      if (JSON.stringify(container[last]) !== JSON.stringify(op.value))
        throw new ApiError(422, 'Invalid', `testing value ${op.path ?? ''} failed`);
    } else throw badRequest(`Unexpected kind: ${op.op ?? ''}`);
  }
  return doc;
}

/** A list's continue token: base64url JSON of the list's revision and where to resume. */
export function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

export function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      rv?: unknown;
      start?: unknown;
    };
    if (typeof t.rv === 'number' && typeof t.start === 'string')
      return { rv: t.rv, start: t.start };
  } catch {
    // fall through
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion');
}
