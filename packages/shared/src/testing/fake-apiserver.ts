// A FAKE Kubernetes API server, for tests only. It is not Kubernetes: it keeps objects in
// memory and implements just the API semantics hairpin's controllers rely on, the way the
// real apiserver does them, so that the real @kubernetes/client-node can be driven
// against it:
// - one global, increasing resourceVersion; objects carry it, with uid and timestamps;
// - list returns the collection's resourceVersion; watch from a resourceVersion replays
//   what happened after it, then streams ADDED / MODIFIED / DELETED as JSON lines, with
//   headers sent at once; BOOKMARK events when asked for (allowWatchBookmarks);
// - a watch from a compacted resourceVersion gets an ERROR event (Status 410 Expired)
//   and the stream closes;
// - replace (PUT) with a stale metadata.resourceVersion is 409 Conflict; a replace that
//   changes nothing returns 200 with the same resourceVersion and emits no event;
// - create of an existing name is 409 AlreadyExists; get of a missing one is 404;
// - label selectors (equality) and field selectors (equality on a dotted path);
// - discovery for the groups it serves; the Gateway API group only after
//   installGatewayApi(), as if its CRDs had been applied;
// - fault hooks: drop every watch, refuse connections (stop listening, then listen again
//   on the same port), fail the next N requests with a status, compact history.
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

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

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface StoredEvent {
  readonly rv: number;
  readonly type: EventType;
  readonly resource: ResourceType;
  readonly object: KubeObject;
}

interface Watcher {
  readonly resource: ResourceType;
  readonly namespace: string | undefined;
  readonly matches: (o: KubeObject) => boolean;
  readonly res: ServerResponse;
  readonly bookmarks: boolean;
}

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  /** performance.now() when the request arrived. */
  readonly at: number;
}

const CORE: ResourceType[] = [
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'ingresses',
    kind: 'Ingress',
    namespaced: true,
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    plural: 'leases',
    kind: 'Lease',
    namespaced: true,
  },
  { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
];

const GATEWAY_API: ResourceType[] = [
  {
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'gateways',
    kind: 'Gateway',
    namespaced: true,
  },
  {
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'httproutes',
    kind: 'HTTPRoute',
    namespaced: true,
  },
];

function apiVersionOf(t: ResourceType): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

function status(code: number, reason: string, message: string): object {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  };
}

function clone<T>(o: T): T {
  return structuredClone(o);
}

/** Merge patch (RFC 7386); strategic merge patches are treated the same (enough here). */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return clone(patch);
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

/** What a replace compares: everything but server-set metadata. */
function content(o: KubeObject): string {
  const { metadata = {}, ...rest } = o;
  const {
    resourceVersion: _rv,
    uid: _uid,
    creationTimestamp: _ct,
    generation: _g,
    managedFields: _mf,
    ...meta
  } = metadata;
  return JSON.stringify({ ...rest, metadata: meta });
}

export class FakeApiServer {
  readonly requests: RequestRecord[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly types: ResourceType[] = [...CORE];
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: StoredEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private rv = 100;
  private compactedBefore = 0;
  private failures: {
    remaining: number;
    status: number;
    match: RegExp | undefined;
    method: string | undefined;
  }[] = [];
  private bookmarkTimer: NodeJS.Timeout | undefined;
  private uidCounter = 0;
  port = 0;

  private constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(options: { bookmarkIntervalMs?: number } = {}): Promise<FakeApiServer> {
    const fake = new FakeApiServer();
    fake.server.listen(0, '127.0.0.1');
    await once(fake.server, 'listening');
    fake.port = (fake.server.address() as AddressInfo).port;
    fake.bookmarkTimer = setInterval(() => fake.bookmark(), options.bookmarkIntervalMs ?? 1_000);
    fake.bookmarkTimer.unref();
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A client-node KubeConfig pointed at this fake, no credentials. */
  /** A kubeconfig file pointing at this fake, for a process run with KUBECONFIG=<file>. */
  kubeconfigFile(): string {
    const file = join(mkdtempSync(join(tmpdir(), 'hairpin-kube-')), 'config');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: fake, cluster: {server: "${this.url}", insecure-skip-tls-verify: true}}]`,
        'users: [{name: fake, user: {}}]',
        'contexts: [{name: fake, context: {cluster: fake, user: fake}}]',
        'current-context: fake',
        '',
      ].join('\n'),
    );
    return file;
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    });
    return kc;
  }

  async stop(): Promise<void> {
    clearInterval(this.bookmarkTimer);
    this.dropWatches();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  // --- fault hooks ---------------------------------------------------------------------

  /** Destroys every open watch connection (a dropped stream, as on an apiserver restart). */
  dropWatches(): void {
    for (const w of this.watchers) w.res.socket?.destroy();
    this.watchers.clear();
  }

  /** Stops listening (connections refused) until resumeConnections(); drops what is open. */
  async refuseConnections(): Promise<void> {
    this.dropWatches();
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Listens again on the same port. */
  async resumeConnections(): Promise<void> {
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
  }

  /** The next `count` requests (whose path and method match, if given) fail with `code`. */
  failNext(count: number, code: number, match?: RegExp, method?: string): void {
    this.failures.push({ remaining: count, status: code, match, method });
  }

  /** Ends every injected failure. */
  clearFailures(): void {
    this.failures = [];
  }

  /** Forgets history: watches from any resourceVersion before now get 410 Expired. */
  compact(): void {
    this.compactedBefore = this.rv;
    this.history.length = 0;
  }

  /** Sends ERROR 410 on every open watch, then closes them (as after compaction). */
  expireWatches(): void {
    this.compact();
    for (const w of this.watchers) {
      w.res.end(
        `${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version') })}\n`,
      );
    }
    this.watchers.clear();
  }

  /** A BOOKMARK with the current resourceVersion to every watch that asked for them. */
  bookmark(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks) continue;
      w.res.write(
        `${JSON.stringify({
          type: 'BOOKMARK',
          object: {
            kind: w.resource.kind,
            apiVersion: apiVersionOf(w.resource),
            metadata: { resourceVersion: String(this.rv) },
          },
        })}\n`,
      );
    }
  }

  /** As if the Gateway API CRDs had been applied: the group appears in discovery. */
  installGatewayApi(): void {
    for (const t of GATEWAY_API) if (!this.types.includes(t)) this.types.push(t);
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  // --- direct store access (emits watch events like API writes do) --------------------

  private typeOf(apiVersion: string, kind: string): ResourceType {
    const t = this.types.find((x) => apiVersionOf(x) === apiVersion && x.kind === kind);
    if (t === undefined) throw new Error(`fake apiserver: unknown type ${apiVersion} ${kind}`);
    return t;
  }

  private key(t: ResourceType, namespace: string | undefined, name: string): string {
    return `${t.group}/${t.plural}/${t.namespaced ? (namespace ?? '') : ''}/${name}`;
  }

  private emit(type: EventType, resource: ResourceType, object: KubeObject): void {
    const event: StoredEvent = { rv: this.rv, type, resource, object: clone(object) };
    this.history.push(event);
    for (const w of this.watchers) this.send(w, event);
  }

  private send(w: Watcher, e: StoredEvent): void {
    if (e.resource !== w.resource) return;
    if (w.namespace !== undefined && e.object.metadata?.namespace !== w.namespace) return;
    if (!w.matches(e.object)) return;
    w.res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
  }

  create<T extends object>(input: T): T {
    return this.createObject(input as KubeObject) as T;
  }

  private createObject(object: KubeObject): KubeObject {
    const t = this.typeOf(object.apiVersion ?? '', object.kind ?? '');
    const generate = object.metadata?.['generateName'];
    // metadata.generateName: the server appends a random suffix, as the real one does.
    const name =
      object.metadata?.name ||
      (typeof generate === 'string' && generate !== ''
        ? `${generate}${Math.random().toString(36).slice(2, 7)}`
        : '');
    if (name === '')
      throw Object.assign(new Error('name or generateName is required'), { code: 422 });
    object = { ...object, metadata: { ...object.metadata, name } };
    const k = this.key(t, object.metadata?.namespace, name);
    if (this.objects.has(k)) throw Object.assign(new Error('AlreadyExists'), { code: 409 });
    this.rv++;
    const stored: KubeObject = {
      ...clone(object),
      metadata: {
        ...clone(object.metadata),
        resourceVersion: String(this.rv),
        uid: `uid-${++this.uidCounter}`,
        creationTimestamp: new Date().toISOString(),
        generation: 1,
      },
    };
    this.objects.set(k, stored);
    this.emit('ADDED', t, stored);
    return clone(stored);
  }

  get(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): KubeObject | undefined {
    const o = this.objects.get(this.key(this.typeOf(apiVersion, kind), namespace, name));
    return o === undefined ? undefined : clone(o);
  }

  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    const t = this.typeOf(apiVersion, kind);
    return [...this.objects.values()]
      .filter((o) => o.apiVersion === apiVersion && o.kind === kind)
      .filter(
        (o) => !t.namespaced || namespace === undefined || o.metadata?.namespace === namespace,
      )
      .map(clone);
  }

  /** Replace; `checkVersion` makes a stale metadata.resourceVersion a 409, as PUT does. */
  replace<T extends object>(input: T, checkVersion = false): T {
    return this.replaceObject(input as KubeObject, checkVersion) as T;
  }

  private replaceObject(object: KubeObject, checkVersion: boolean): KubeObject {
    const t = this.typeOf(object.apiVersion ?? '', object.kind ?? '');
    const k = this.key(t, object.metadata?.namespace, object.metadata?.name ?? '');
    const current = this.objects.get(k);
    if (current === undefined) throw Object.assign(new Error('NotFound'), { code: 404 });
    const given = object.metadata?.resourceVersion;
    if (
      checkVersion &&
      given !== undefined &&
      given !== '' &&
      given !== current.metadata?.resourceVersion
    ) {
      throw Object.assign(new Error('Conflict'), { code: 409 });
    }
    if (content(object) === content(current)) return clone(current);
    this.rv++;
    const stored: KubeObject = {
      ...clone(object),
      metadata: {
        ...clone(object.metadata),
        resourceVersion: String(this.rv),
        uid: current.metadata?.uid ?? '',
        creationTimestamp: current.metadata?.['creationTimestamp'],
        generation: Number(current.metadata?.['generation'] ?? 1) + 1,
      },
    };
    this.objects.set(k, stored);
    this.emit('MODIFIED', t, stored);
    return clone(stored);
  }

  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean {
    const t = this.typeOf(apiVersion, kind);
    const k = this.key(t, namespace, name);
    const current = this.objects.get(k);
    if (current === undefined) return false;
    this.objects.delete(k);
    this.rv++;
    this.emit('DELETED', t, {
      ...current,
      metadata: { ...current.metadata, resourceVersion: String(this.rv) },
    });
    return true;
  }

  // --- HTTP -------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const query = Object.fromEntries(url.searchParams);
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, query, at: performance.now() });
    const json = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const failure = this.failures.find(
      (f) =>
        f.remaining > 0 &&
        (f.match === undefined || f.match.test(url.pathname)) &&
        (f.method === undefined || f.method === method),
    );
    if (failure !== undefined) {
      failure.remaining--;
      json(
        failure.status,
        status(
          failure.status,
          failure.status === 409 ? 'Conflict' : 'InternalError',
          'injected failure',
        ),
      );
      return;
    }
    const body =
      method === 'POST' || method === 'PUT' || method === 'PATCH'
        ? await this.readBody(req)
        : undefined;

    const discovery = this.discovery(url.pathname);
    if (discovery !== undefined) {
      if (discovery === null)
        json(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      else json(200, discovery);
      return;
    }
    const route = this.route(url.pathname);
    if (route === undefined) {
      json(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      return;
    }
    const { type, namespace, name } = route;
    try {
      if (method === 'GET' && name === undefined) {
        const matches = this.selector(query);
        if (query['watch'] === 'true' || query['watch'] === '1') {
          this.watch(type, namespace, matches, query, res);
          return;
        }
        const items = [...this.objects.values()].filter(
          (o) =>
            o.apiVersion === apiVersionOf(type) &&
            o.kind === type.kind &&
            (namespace === undefined || o.metadata?.namespace === namespace) &&
            matches(o),
        );
        json(200, {
          kind: `${type.kind}List`,
          apiVersion: apiVersionOf(type),
          metadata: { resourceVersion: String(this.rv) },
          items,
        });
        return;
      }
      if (method === 'GET') {
        const o = this.objects.get(this.key(type, namespace, name!));
        if (o === undefined)
          json(404, status(404, 'NotFound', `${type.plural} "${name}" not found`));
        else json(200, o);
        return;
      }
      if (method === 'POST') {
        const o = body as KubeObject;
        json(
          201,
          this.createObject({
            ...o,
            apiVersion: apiVersionOf(type),
            kind: type.kind,
            metadata: { ...o.metadata, ...(namespace === undefined ? {} : { namespace }) },
          }),
        );
        return;
      }
      if (method === 'PUT') {
        const o = body as KubeObject;
        if (o.metadata?.name !== name) {
          json(
            400,
            status(400, 'BadRequest', 'the name of the object does not match the name on the URL'),
          );
          return;
        }
        json(
          200,
          this.replaceObject(
            {
              ...o,
              apiVersion: apiVersionOf(type),
              kind: type.kind,
              metadata: { ...o.metadata, ...(namespace === undefined ? {} : { namespace }) },
            },
            true,
          ),
        );
        return;
      }
      if (method === 'PATCH') {
        const current = this.objects.get(this.key(type, namespace, name!));
        if (current === undefined) {
          json(404, status(404, 'NotFound', `${type.plural} "${name}" not found`));
          return;
        }
        const patched = mergePatch(current, body) as KubeObject;
        json(200, this.replaceObject(patched, true));
        return;
      }
      if (method === 'DELETE') {
        const current = this.objects.get(this.key(type, namespace, name!));
        if (
          current === undefined ||
          !this.delete(apiVersionOf(type), type.kind, namespace, name!)
        ) {
          json(404, status(404, 'NotFound', `${type.plural} "${name}" not found`));
          return;
        }
        json(200, { kind: 'Status', apiVersion: 'v1', status: 'Success', metadata: {} });
        return;
      }
      json(405, status(405, 'MethodNotAllowed', method));
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 409)
        json(
          409,
          status(
            409,
            (err as Error).message === 'AlreadyExists' ? 'AlreadyExists' : 'Conflict',
            `Operation cannot be fulfilled on ${type.plural} "${name ?? ''}": ${(err as Error).message}`,
          ),
        );
      else if (code === 404)
        json(404, status(404, 'NotFound', `${type.plural} "${name ?? ''}" not found`));
      else if (code === 422) json(422, status(422, 'Invalid', (err as Error).message));
      else json(500, status(500, 'InternalError', String(err)));
    }
  }

  private readBody(req: IncomingMessage): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let data = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (data += c));
      req.on('end', () => {
        try {
          resolve(data === '' ? {} : JSON.parse(data));
        } catch (err) {
          reject(err as Error);
        }
      });
      req.on('error', reject);
    });
  }

  private selector(query: Record<string, string>): (o: KubeObject) => boolean {
    const labels = (query['labelSelector'] ?? '')
      .split(',')
      .filter((s) => s !== '')
      .map((s) => s.split('=') as [string, string]);
    const fields = (query['fieldSelector'] ?? '')
      .split(',')
      .filter((s) => s !== '')
      .map((s) => s.split('=') as [string, string]);
    return (o) =>
      labels.every(([k, v]) => o.metadata?.labels?.[k] === v) &&
      // Any dotted path to a string field (metadata.name, reason, involvedObject.kind).
      fields.every(
        ([k, v]) =>
          k.split('.').reduce<unknown>((at, part) => (at as Record<string, unknown>)?.[part], o) ===
          v,
      );
  }

  private watch(
    type: ResourceType,
    namespace: string | undefined,
    matches: (o: KubeObject) => boolean,
    query: Record<string, string>,
    res: ServerResponse,
  ): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const from = query['resourceVersion'] ?? '';
    const watcher: Watcher = {
      resource: type,
      namespace,
      matches,
      res,
      bookmarks: query['allowWatchBookmarks'] === 'true',
    };
    if (from !== '' && from !== '0' && Number(from) < this.compactedBefore) {
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${this.compactedBefore})`) })}\n`,
      );
      return;
    }
    if (from === '' || from === '0') {
      for (const o of this.objects.values()) {
        if (o.apiVersion === apiVersionOf(type) && o.kind === type.kind) {
          this.send(watcher, { rv: this.rv, type: 'ADDED', resource: type, object: o });
        }
      }
    } else {
      for (const e of this.history) if (e.rv > Number(from)) this.send(watcher, e);
    }
    this.watchers.add(watcher);
    const timeout = Number(query['timeoutSeconds'] ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    res.on('close', () => {
      clearTimeout(timer);
      this.watchers.delete(watcher);
    });
  }

  /** Discovery documents; null for a group or version that is not served. */
  private discovery(path: string): object | null | undefined {
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'] };
    const groups = [...new Set(this.types.filter((t) => t.group !== '').map((t) => t.group))];
    if (path === '/apis') {
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: groups.map((g) => ({
          name: g,
          versions: [{ groupVersion: `${g}/v1`, version: 'v1' }],
          preferredVersion: { groupVersion: `${g}/v1`, version: 'v1' },
        })),
      };
    }
    const resourceList = (group: string, version: string): object | null => {
      const types = this.types.filter((t) => t.group === group && t.version === version);
      if (types.length === 0) return null;
      return {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: group === '' ? version : `${group}/${version}`,
        resources: types.map((t) => ({
          name: t.plural,
          namespaced: t.namespaced,
          kind: t.kind,
          verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
        })),
      };
    };
    if (path === '/api/v1') return resourceList('', 'v1');
    const m = /^\/apis\/([^/]+)(?:\/([^/]+))?\/?$/.exec(path);
    if (m === null) return undefined;
    if (m[2] === undefined) {
      return groups.includes(m[1]!)
        ? {
            kind: 'APIGroup',
            name: m[1],
            versions: [{ groupVersion: `${m[1]}/v1`, version: 'v1' }],
          }
        : null;
    }
    return resourceList(m[1]!, m[2]);
  }

  private route(
    path: string,
  ): { type: ResourceType; namespace: string | undefined; name: string | undefined } | undefined {
    const m =
      /^\/api\/(v1)\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+))?$/.exec(path) ??
      /^\/apis\/[^/]+\/[^/]+\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (m === null) return undefined;
    let group = '';
    let version = 'v1';
    let namespace: string | undefined;
    let plural: string;
    let name: string | undefined;
    if (path.startsWith('/api/')) {
      [, , namespace, plural = '', name] = m as unknown as [
        string,
        string,
        string | undefined,
        string,
        string | undefined,
      ];
    } else {
      const parts = path.split('/');
      group = parts[2]!;
      version = parts[3]!;
      [, namespace, plural = '', name] = m as unknown as [
        string,
        string | undefined,
        string,
        string | undefined,
      ];
    }
    // /api/v1/namespaces/NAME is the Namespace object itself.
    if (namespace === undefined && plural === 'namespaces' && name !== undefined) {
      return {
        type: this.types.find((t) => t.plural === 'namespaces')!,
        namespace: undefined,
        name,
      };
    }
    const type = this.types.find(
      (t) => t.group === group && t.version === version && t.plural === plural,
    );
    if (type === undefined) return undefined;
    return { type, namespace: type.namespaced ? namespace : undefined, name };
  }
}
