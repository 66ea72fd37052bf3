// Replays every request of the exchanges recorded on a real kube-apiserver (v1.24,
// fixtures/kube-api-conformance) against the fake, and compares what hairpin's code relies
// on: status code, reason, details and causes, the Status message, which fields survive a
// write (and how times come back), list and watch shapes, resourceVersion bookkeeping.
// The steps where the fake still differs are listed in KNOWN_DIFFERENCES with the reason;
// docs/fake-apiserver.md gives the same list. A listed step that stops differing fails the
// test too, so the list stays exact.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { FakeApiServer, kubeApiConformanceDir } from '../src/index.ts';

/** file → step index → why the fake differs there (keep docs/fake-apiserver.md in step). */
const RBAC =
  'no authentication or RBAC: every request is allowed (tests inject 401/403 with failNext)';
const NEW_EVENTS =
  'Events with eventTime ("new" Events) are not validated: hairpin writes core/v1 Events without it';
const KNOWN_DIFFERENCES: Record<string, Record<number, string>> = {
  '06-services.json': {
    11: 'the recorded cluster already had 10.96.77.77 allocated by an earlier run; the fake allocates it',
  },
  '07-events-timestamps.json': {
    5: NEW_EVENTS,
    6: NEW_EVENTS,
    11: 'core/v1 and events.k8s.io/v1 Events are separate collections, not two views of one',
    12: 'core/v1 and events.k8s.io/v1 Events are separate collections, not two views of one',
    13: NEW_EVENTS,
    14: NEW_EVENTS,
    15: NEW_EVENTS,
  },
  '09-rbac-forbidden.json': {
    0: RBAC,
    1: RBAC,
    2: RBAC,
    3: RBAC,
    4: RBAC,
    6: 'rbac.authorization.k8s.io is not served',
    7: 'rbac.authorization.k8s.io is not served',
    11: 'the recorded watch saw an admin patch made outside the recorded requests',
    12: RBAC,
    13: RBAC,
    14: RBAC,
    15: RBAC,
    16: 'Secrets are not served (and no RBAC)',
    17: 'authorization.k8s.io (SelfSubjectAccessReview) is not served',
  },
  '10-notfound-delete.json': {
    14: 'propagationPolicy=Foreground is not modelled: the object is deleted at once',
    15: 'propagationPolicy=Foreground is not modelled: the object is deleted at once',
  },
  '11-dryrun-fieldvalidation.json': {
    0: 'apps/v1 Deployments are not served',
    1: 'apps/v1 Deployments are not served',
    2: 'apps/v1 Deployments are not served',
    3: 'apps/v1 Deployments are not served',
    4: 'apps/v1 Deployments are not served',
    5: 'apps/v1 Deployments are not served',
    6: 'apps/v1 Deployments are not served',
    7: 'apps/v1 Deployments are not served',
    8: 'Pods are not served',
    9: 'Pods are not served',
  },
};

type Json = Record<string, unknown>;

interface RecordedEvent {
  readonly type: string;
  readonly 'object.metadata.name': string | null;
  readonly 'object.metadata.resourceVersion': string | null;
  readonly 'object.kind': string;
  readonly object?: Json;
}

interface Step {
  readonly request?: {
    readonly method: string;
    readonly path: string;
    readonly body: unknown;
    readonly rawBody?: string;
    readonly contentType?: string;
    readonly user?: string;
  };
  readonly response?: {
    readonly status: number;
    readonly contentType: string;
    readonly body?: unknown;
    readonly events?: readonly RecordedEvent[];
    readonly streamClosedAfterSeconds?: number;
  };
  readonly action?: unknown;
  readonly concurrentRequests?: readonly {
    readonly atSecondsAfterWatchOpened: number;
    readonly method: string;
    readonly path: string;
    readonly body: unknown;
    readonly status: number;
    readonly resultResourceVersion: string | null;
  }[];
}

const NS = 'conformance';
const ALLOCATED = ['clusterIP', 'clusterIPs', 'nodePort'];
const NS2 = 'conformance-absent';

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Recorded RVs and uids → the fake's, learnt from the responses as the replay goes. */
class Ids {
  readonly rv = new Map<string, string>();
  readonly uid = new Map<string, string>();
  /** Values the server allocates: clusterIP(s), nodePort. */
  readonly allocated = new Map<unknown, unknown>();

  learn(kind: 'rv' | 'uid', recorded: unknown, actual: unknown, diffs: string[], where: string) {
    if (typeof recorded !== 'string' || typeof actual !== 'string') return;
    const map = kind === 'rv' ? this.rv : this.uid;
    const known = map.get(recorded);
    if (known === undefined) map.set(recorded, actual);
    else if (kind === 'rv' && known !== actual)
      diffs.push(`${where}: resourceVersion ${actual}, expected the same as before (${known})`);
  }
}

/** The recorded request as sent to the fake: namespaces, big bodies, RVs and uids mapped. */
function localise(value: unknown, ids: Ids, key = ''): unknown {
  if (typeof value === 'string') {
    const big = /^<'(.)' repeated (\d+) times>$/.exec(value);
    if (big !== null) return big[1]!.repeat(Number(big[2]));
    if (key === 'resourceVersion') return ids.rv.get(value) ?? value;
    if (key === 'uid') return ids.uid.get(value) ?? value;
    if (ALLOCATED.includes(key)) return ids.allocated.get(value) ?? value;
    return value.replaceAll('NAMESPACE2', NS2).replaceAll('NAMESPACE', NS);
  }
  if (typeof value === 'number' && ALLOCATED.includes(key))
    return ids.allocated.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => localise(v, ids, key));
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, localise(v, ids, k)]));
  return value;
}

function localisePath(path: string, ids: Ids): string {
  const url = new URL(path.replaceAll('NAMESPACE2', NS2).replaceAll('NAMESPACE', NS), 'http://x');
  const rv = url.searchParams.get('resourceVersion');
  if (rv !== null) url.searchParams.set('resourceVersion', ids.rv.get(rv) ?? rv);
  const token = url.searchParams.get('continue');
  if (token !== null) {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString()) as { rv: number };
    t.rv = Number(ids.rv.get(String(t.rv)) ?? t.rv);
    url.searchParams.set('continue', Buffer.from(JSON.stringify(t)).toString('base64url'));
  }
  return `${url.pathname}${url.search}`;
}

/** A Status message with RVs, uids and whole JSON documents in it masked. */
function maskMessage(m: unknown): unknown {
  if (typeof m !== 'string') return m;
  return m
    .replaceAll('NAMESPACE2', NS2)
    .replaceAll('NAMESPACE', NS)
    .replace(/Invalid value: "\{.*?\}": /g, 'Invalid value: <object>: ')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uid>')
    .replace(/\b\d{3,6}\b/g, (n) => (n === '1048576' || n === '253' ? n : '<n>'));
}

/** Leaf paths of a request body (a patch's paths for a JSON patch). */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value) && value.every((v) => isObject(v) && typeof v['op'] === 'string')) {
    return value.map((op) =>
      String((op as Json)['path'])
        .slice(1)
        .replaceAll('/', '.'),
    );
  }
  if (isObject(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([k, v]) =>
      leafPaths(v, prefix === '' ? k : `${prefix}.${k}`),
    );
  }
  if (Array.isArray(value) && value.length > 0) {
    return value.flatMap((v, i) => leafPaths(v, `${prefix}.${i}`));
  }
  return prefix === '' ? [] : [prefix];
}

/** The field a path ends in, list indexes aside: spec.clusterIPs.0 → clusterIPs. */
function fieldName(path: string): string {
  return (
    path
      .split('.')
      .filter((p) => !/^\d+$/.test(p))
      .pop() ?? ''
  );
}

function valueAt(o: unknown, path: string): unknown {
  let cur = o;
  for (const p of path.split('.')) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isObject(cur)) cur = cur[p];
    else return undefined;
  }
  return cur;
}

const SERVER_META = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'generation',
  'deletionTimestamp',
];

class Comparison {
  readonly ids = new Ids();
  /** object (plural/name) → every field path a request wrote. */
  private readonly written = new Map<string, Set<string>>();

  wrote(path: string, body: unknown): void {
    const m = /\/([a-z]+)\/([^/?]+)(?:\/status)?$/.exec(path.split('?')[0]!);
    const name =
      isObject(body) && isObject(body['metadata']) ? body['metadata']['name'] : undefined;
    const plural = /\/([a-z]+)(?:\/[^/?]+)?(?:\/status)?$/.exec(path.split('?')[0]!)?.[1];
    const key = `${plural}/${typeof name === 'string' ? name : (m?.[2] ?? '')}`;
    const set = this.written.get(key) ?? new Set<string>();
    for (const p of leafPaths(body))
      if (
        !p.startsWith('metadata.') &&
        p !== 'kind' &&
        p !== 'apiVersion' &&
        !p.startsWith('preconditions')
      )
        set.add(p);
    this.written.set(key, set);
  }

  object(recorded: Json, actual: Json, plural: string, where: string, diffs: string[]): void {
    for (const k of ['kind', 'apiVersion'] as const) {
      if (recorded[k] !== actual[k])
        diffs.push(`${where}.${k}: ${String(actual[k])}, expected ${String(recorded[k])}`);
    }
    const rm = isObject(recorded['metadata']) ? recorded['metadata'] : {};
    const am = isObject(actual['metadata']) ? actual['metadata'] : {};
    for (const k of ['name', 'namespace', 'labels', 'generation', 'finalizers']) {
      const r = JSON.stringify(localise(rm[k], this.ids));
      const a = JSON.stringify(am[k]);
      if (r !== a) diffs.push(`${where}.metadata.${k}: ${a}, expected ${r}`);
    }
    for (const k of SERVER_META) {
      if ((rm[k] === undefined) !== (am[k] === undefined))
        diffs.push(`${where}.metadata.${k}: ${am[k] === undefined ? 'absent' : 'present'}`);
    }
    if (typeof am['creationTimestamp'] === 'string' && !/:\d\dZ$/.test(am['creationTimestamp']))
      diffs.push(
        `${where}.metadata.creationTimestamp: ${am['creationTimestamp']}, not whole seconds`,
      );
    this.ids.learn('uid', rm['uid'], am['uid'], diffs, where);
    this.ids.learn('rv', rm['resourceVersion'], am['resourceVersion'], diffs, where);
    const name = typeof rm['name'] === 'string' ? rm['name'] : '';
    this.learnAllocated(recorded, actual);
    for (const p of this.written.get(`${plural}/${name}`) ?? []) {
      const r = JSON.stringify(localise(valueAt(recorded, p), this.ids, fieldName(p)));
      const a = JSON.stringify(valueAt(actual, p));
      if (r !== a) diffs.push(`${where}.${p}: ${a ?? 'absent'}, expected ${r ?? 'absent'}`);
    }
  }

  /** Pairs the clusterIP(s) and node ports the real server chose with the fake's. */
  private learnAllocated(recorded: unknown, actual: unknown, key = ''): void {
    if (ALLOCATED.includes(key) && (typeof recorded === 'string' || typeof recorded === 'number')) {
      if (!this.ids.allocated.has(recorded)) this.ids.allocated.set(recorded, actual);
      return;
    }
    if (Array.isArray(recorded) && Array.isArray(actual))
      recorded.forEach((v, i) => this.learnAllocated(v, actual[i], key));
    else if (isObject(recorded) && isObject(actual))
      for (const [k, v] of Object.entries(recorded)) this.learnAllocated(v, actual[k], k);
  }

  status(recorded: Json, actual: Json, diffs: string[]): void {
    for (const k of ['kind', 'status', 'reason', 'code']) {
      if (recorded[k] !== actual[k])
        diffs.push(`${k}: ${JSON.stringify(actual[k])}, expected ${JSON.stringify(recorded[k])}`);
    }
    if (maskMessage(recorded['message']) !== maskMessage(actual['message'])) {
      diffs.push(
        `message: ${JSON.stringify(actual['message'])}, expected ${JSON.stringify(maskMessage(recorded['message']))}`,
      );
    }
    const rd = isObject(recorded['details']) ? recorded['details'] : undefined;
    const ad = isObject(actual['details']) ? actual['details'] : undefined;
    if ((rd === undefined) !== (ad === undefined))
      diffs.push(`details: ${JSON.stringify(ad)}, expected ${JSON.stringify(rd)}`);
    if (rd !== undefined && ad !== undefined) {
      for (const k of ['name', 'group', 'kind', 'retryAfterSeconds']) {
        const r = localise(rd[k], this.ids);
        if (r !== ad[k])
          diffs.push(`details.${k}: ${JSON.stringify(ad[k])}, expected ${JSON.stringify(r)}`);
      }
      if ((rd['uid'] === undefined) !== (ad['uid'] === undefined)) diffs.push('details.uid');
      const causes = (d: Json) =>
        JSON.stringify(
          ((d['causes'] as Json[] | undefined) ?? []).map((c) => [
            c['reason'],
            c['field'],
            maskMessage(c['message']),
          ]),
        );
      if (causes(rd) !== causes(ad))
        diffs.push(`details.causes: ${causes(ad)}, expected ${causes(rd)}`);
    }
    const rc = isObject(recorded['metadata']) ? recorded['metadata']['continue'] : undefined;
    const ac = isObject(actual['metadata']) ? actual['metadata']['continue'] : undefined;
    if ((rc === undefined) !== (ac === undefined)) diffs.push('metadata.continue');
  }

  body(recorded: unknown, actual: unknown, plural: string, diffs: string[]): void {
    if (typeof recorded === 'string' || typeof actual === 'string') {
      if (recorded !== actual)
        diffs.push(`body: ${JSON.stringify(actual)}, expected ${JSON.stringify(recorded)}`);
      return;
    }
    if (!isObject(recorded) || !isObject(actual)) {
      diffs.push(`body: ${JSON.stringify(actual)?.slice(0, 200)}`);
      return;
    }
    if (recorded['_recorded'] !== undefined) return this.reduced(recorded, actual, diffs);
    if (recorded['kind'] === 'Status') return this.status(recorded, actual, diffs);
    if (Array.isArray(recorded['items'])) {
      for (const k of ['kind', 'apiVersion'] as const)
        if (recorded[k] !== actual[k])
          diffs.push(`${k}: ${String(actual[k])}, expected ${String(recorded[k])}`);
      const rm = recorded['metadata'] as Json;
      const am = (actual['metadata'] ?? {}) as Json;
      if (JSON.stringify(Object.keys(rm).sort()) !== JSON.stringify(Object.keys(am).sort()))
        diffs.push(`list metadata: ${JSON.stringify(am)}, expected ${JSON.stringify(rm)}`);
      if (rm['remainingItemCount'] !== am['remainingItemCount']) diffs.push('remainingItemCount');
      this.ids.learn('rv', rm['resourceVersion'], am['resourceVersion'], diffs, 'list');
      const ri = recorded['items'] as Json[];
      const ai = (actual['items'] ?? []) as Json[];
      // Items come in key order from storage; the watch cache serves them in no set order.
      const ordered = rm['continue'] !== undefined || rm['remainingItemCount'] !== undefined;
      const names = (items: Json[]) => {
        const list = items.map((i) => String((i['metadata'] as Json | undefined)?.['name']));
        return ordered ? list : list.sort();
      };
      if (JSON.stringify(names(ri)) !== JSON.stringify(names(ai))) {
        diffs.push(`items: ${JSON.stringify(names(ai))}, expected ${JSON.stringify(names(ri))}`);
        return;
      }
      const byName = (items: Json[], name: unknown) =>
        items.find((i) => (i['metadata'] as Json | undefined)?.['name'] === name)!;
      for (const item of ri) {
        const name = (item['metadata'] as Json | undefined)?.['name'];
        this.object(item, byName(ai, name), plural, `items[${String(name)}]`, diffs);
      }
      return;
    }
    this.object(recorded, actual, plural, 'object', diffs);
  }

  /** A body the recorder reduced (discovery): the fake's groups must be among the real ones. */
  private reduced(recorded: Json, actual: Json, diffs: string[]): void {
    const names = recorded['groupNames'] as string[];
    const preferred = recorded['preferredVersions'] as Record<string, string>;
    for (const g of (actual['groups'] ?? []) as {
      name: string;
      preferredVersion: { groupVersion: string };
    }[]) {
      if (!names.includes(g.name)) diffs.push(`group ${g.name} is not served by the real server`);
      else if (preferred[g.name] !== g.preferredVersion.groupVersion)
        diffs.push(
          `group ${g.name}: preferred ${g.preferredVersion.groupVersion}, expected ${preferred[g.name]}`,
        );
    }
  }
}

function pluralOf(path: string): string {
  return /\/([a-z]+)(?:\/[^/?]+)?(?:\/status)?(?:\?|$)/.exec(path)?.[1] ?? '';
}

async function send(
  fake: FakeApiServer,
  method: string,
  path: string,
  body: unknown,
  contentType?: string,
  raw?: string,
) {
  const headers: Record<string, string> = {};
  let payload: string | undefined;
  if (raw !== undefined || (body !== null && body !== undefined)) {
    payload = raw ?? JSON.stringify(body);
    headers['content-type'] = contentType ?? 'application/json';
  }
  return fetch(`${fake.url}${path}`, {
    method,
    headers,
    ...(payload === undefined ? {} : { body: payload }),
  });
}

async function replayWatch(
  fake: FakeApiServer,
  step: Step,
  path: string,
  cmp: Comparison,
  diffs: string[],
): Promise<void> {
  const recorded = step.response!;
  const opened = performance.now();
  const res = await send(fake, 'GET', path, null);
  if (res.status !== recorded.status) {
    diffs.push(`status ${res.status}, expected ${recorded.status}`);
    return;
  }
  const results: { at: number; rv: string | null; recordedRv: string | null }[] = [];
  const concurrent = (step.concurrentRequests ?? []).map(
    (c) =>
      new Promise<void>((resolve) =>
        setTimeout(async () => {
          const r = await send(
            fake,
            c.method,
            localisePath(c.path, cmp.ids),
            localise(c.body, cmp.ids),
            c.method === 'PATCH' ? 'application/merge-patch+json' : undefined,
          );
          const body = (await r.json()) as Json;
          if (r.status !== c.status)
            diffs.push(`concurrent ${c.method} ${c.path}: ${r.status}, expected ${c.status}`);
          results.push({
            at: 0,
            rv:
              ((body['metadata'] as Json | undefined)?.['resourceVersion'] as string | undefined) ??
              null,
            recordedRv: c.resultResourceVersion,
          });
          if (c.method !== 'DELETE')
            cmp.ids.learn(
              'rv',
              c.resultResourceVersion,
              (body['metadata'] as Json | undefined)?.['resourceVersion'],
              diffs,
              'concurrent',
            );
          resolve();
        }, c.atSecondsAfterWatchOpened * 1000),
      ),
  );
  const events: Json[] = [];
  const decoder = new TextDecoder();
  let buffered = '';
  const limit = ((recorded.streamClosedAfterSeconds ?? 0) + 2) * 1000;
  const reader = res.body!.getReader();
  const deadline = setTimeout(() => void reader.cancel(), limit);
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buffered.slice(0, nl)) as Json);
      buffered = buffered.slice(nl + 1);
    }
  }
  clearTimeout(deadline);
  const closedAfter = (performance.now() - opened) / 1000;
  await Promise.all(concurrent);
  if (Math.abs(closedAfter - (recorded.streamClosedAfterSeconds ?? 0)) > 1)
    diffs.push(
      `stream closed after ${closedAfter.toFixed(1)} s, expected ${recorded.streamClosedAfterSeconds} s`,
    );
  const plain = (list: { type: string; name: unknown; rv: unknown; kind: unknown }[]) => list;
  const rEvents = (recorded.events ?? []).filter((e) => e.type !== 'BOOKMARK');
  const aEvents = events.filter((e) => e['type'] !== 'BOOKMARK');
  const fromZero = !/resourceVersion=[1-9]/.test(path);
  if (!fromZero && rEvents.length === aEvents.length) {
    // A DELETE's Status carries no resourceVersion: learn the deletion's from its event.
    rEvents.forEach((e, i) => {
      const rv = e['object.metadata.resourceVersion'];
      const actual = ((aEvents[i]!['object'] as Json)['metadata'] as Json | undefined)?.[
        'resourceVersion'
      ];
      if (rv !== null && !cmp.ids.rv.has(rv)) cmp.ids.learn('rv', rv, actual, diffs, 'event');
    });
  }
  const summary = (e: { type: string; name: unknown; rv: unknown; kind: unknown }) =>
    `${e.type} ${String(e.kind)} ${String(e.name)} ${String(e.rv)}`;
  const r = plain(
    rEvents.map((e) => ({
      type: e.type,
      name: e['object.metadata.name'],
      rv:
        e['object.metadata.resourceVersion'] === null
          ? null
          : (cmp.ids.rv.get(e['object.metadata.resourceVersion']) ??
            `recorded:${e['object.metadata.resourceVersion']}`),
      kind: e['object.kind'],
    })),
  ).map(summary);
  const a = aEvents.map((e) => {
    const o = e['object'] as Json;
    const m = (o['metadata'] ?? {}) as Json;
    return summary({
      type: e['type'] as string,
      name: m['name'] ?? null,
      rv: m['resourceVersion'] ?? null,
      kind: o['kind'],
    });
  });
  if (fromZero) {
    r.sort();
    a.sort();
  }
  if (JSON.stringify(r) !== JSON.stringify(a))
    diffs.push(`events: ${JSON.stringify(a)}, expected ${JSON.stringify(r)}`);
  rEvents.forEach((e, i) => {
    if (e.type === 'ERROR' && e.object !== undefined && isObject(aEvents[i]?.['object']))
      cmp.status(e.object, aEvents[i]!['object'] as Json, diffs);
  });
  const rBookmarks = (recorded.events ?? []).filter((e) => e.type === 'BOOKMARK');
  const aBookmarks = events.filter((e) => e['type'] === 'BOOKMARK');
  if (rBookmarks.length > 0 !== aBookmarks.length > 0)
    diffs.push(`${aBookmarks.length} bookmarks, expected ${rBookmarks.length}`);
  if (rBookmarks[0]?.object !== undefined && aBookmarks[0] !== undefined) {
    const ro = {
      ...rBookmarks[0].object,
      metadata: { ...(rBookmarks[0].object['metadata'] as Json), resourceVersion: '' },
    };
    const ao = aBookmarks[0]['object'] as Json;
    const an = { ...ao, metadata: { ...(ao['metadata'] as Json), resourceVersion: '' } };
    if (JSON.stringify(ro) !== JSON.stringify(an))
      diffs.push(
        `bookmark ${JSON.stringify(ao)}, expected ${JSON.stringify(rBookmarks[0].object)}`,
      );
  }
}

async function replay(file: string): Promise<Map<number, string[]>> {
  const steps = (
    JSON.parse(readFileSync(`${kubeApiConformanceDir}${file}`, 'utf8')) as { steps: Step[] }
  ).steps;
  const fake = await FakeApiServer.start({ bookmarkIntervalMs: 600_000, serviceIpMode: false });
  fake.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  try {
    const cmp = new Comparison();
    const out = new Map<number, string[]>();
    for (const [index, step] of steps.entries()) {
      if (isObject(step.action) && step.action['etcd'] === 'compact') fake.compactStorage();
      if (step.request === undefined || step.response === undefined) continue;
      const diffs: string[] = [];
      const { method, rawBody, contentType } = step.request;
      const path = localisePath(step.request.path, cmp.ids);
      const body = localise(step.request.body, cmp.ids);
      if (method !== 'GET' && method !== 'DELETE') cmp.wrote(path, body);
      if (step.response.events !== undefined) {
        await replayWatch(fake, step, path, cmp, diffs);
      } else {
        const res = await send(
          fake,
          method,
          path,
          body,
          contentType,
          rawBody === undefined ? undefined : (localise(rawBody, cmp.ids) as string),
        );
        const text = await res.text();
        if (res.status !== step.response.status)
          diffs.push(`status ${res.status}, expected ${step.response.status}`);
        const textual = step.response.contentType.startsWith('text/plain');
        if (textual !== (res.headers.get('content-type') ?? '').startsWith('text/plain'))
          diffs.push(
            `content-type ${res.headers.get('content-type')}, expected ${step.response.contentType}`,
          );
        let actual: unknown = text;
        if (!textual) {
          try {
            actual = JSON.parse(text);
          } catch {
            // compared as text
          }
        }
        cmp.body(step.response.body, actual, pluralOf(path), diffs);
      }
      if (diffs.length > 0) out.set(index, diffs);
    }
    return out;
  } finally {
    await fake.stop();
  }
}

const files = readdirSync(kubeApiConformanceDir)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('the fake API server answers as the recorded kube-apiserver', () => {
  test('all twelve recordings are here', () => {
    expect(files).toHaveLength(12);
  });

  test.each(files)(
    '%s',
    async (file) => {
      const differences = await replay(file);
      const known = KNOWN_DIFFERENCES[file] ?? {};
      const unexpected = Object.fromEntries(
        [...differences].filter(([i]) => known[i] === undefined),
      );
      const nowAgreeing = Object.keys(known).filter((i) => !differences.has(Number(i)));
      expect(unexpected, 'steps where the fake differs from the recording').toEqual({});
      expect(nowAgreeing, 'listed as different, but the fake now agrees: update the list').toEqual(
        [],
      );
    },
    60_000,
  );
});
