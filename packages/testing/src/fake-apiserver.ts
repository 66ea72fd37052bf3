// A FAKE Kubernetes API server, for tests only. It keeps objects in memory and serves
// the API the way kube-apiserver does for the kinds hairpin uses, so that the real
// @kubernetes/client-node can be driven against it. Its answers are checked against
// exchanges recorded on a real kube-apiserver (test/conformance.test.ts); what it still
// does differently is listed, with why, in docs/fake-apiserver.md. In short:
// - one global, increasing resourceVersion; uid, creationTimestamp (whole seconds),
//   generation for the kinds that have one;
// - namespaces exist or not: a create in a missing namespace is 404 (direct store writes
//   create the namespace, as a test convenience);
// - decoding as the apiserver does (400: MicroTime with anything but six digits, a
//   ConfigMap value that is not a string, bad base64), validation (422 with causes:
//   names, labels, ConfigMap keys and the 1 MiB limit, Ingress hosts, Event namespace);
// - list: the global revision, items without kind/apiVersion, limit/continue; watch from
//   a resourceVersion replays what happened after it, then streams ADDED / MODIFIED /
//   DELETED; BOOKMARK events when asked for; a watch from before the history it keeps
//   gets one ERROR event (Status 410 Expired) and the stream closes;
// - 409 AlreadyExists on create, 409 Conflict on a stale resourceVersion, a PUT without
//   one is unconditional, a PUT that changes nothing keeps the resourceVersion; merge,
//   strategic and JSON patches, 415 for any other patch type; status subresources;
// - an API group that is not installed answers a text/plain 404; the Gateway API group
//   appears after installGatewayApi(), as if its CRDs had been applied;
// - fault hooks: drop every watch, refuse connections (stop listening, then listen again
//   on the same port), fail the next N requests with a status, compact history.
// Direct store access (create/replace/delete) skips decoding and validation, so tests can
// seed what an apiserver of another version, or a looser schema, could hold.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import {
  decodeContinue,
  encodeContinue,
  fieldSelector,
  jsonPatch,
  labelSelector,
  mergePatch,
  type KubeObject,
} from './kube-requests.ts';
import { ApiError, decodeObject, invalidField, validateObject } from './kube-validation.ts';

export type { KubeObject } from './kube-requests.ts';

interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** metadata.generation is kept (spec changes bump it). */
  readonly generation?: boolean;
  /** status is written through /status only (and spec through the main resource only). */
  readonly statusSubresource?: boolean;
}

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
  /** The request body as sent, for writes. */
  readonly body?: string;
  /** performance.now() when the request arrived. */
  readonly at: number;
}

export interface FakeApiServerOptions {
  /** Period of BOOKMARK events on watches that allow them (default 1 s; the real one ~1 min). */
  readonly bookmarkIntervalMs?: number;
  /** Keep Service status.loadBalancer.ingress[].ipMode (1.29+, the default); false drops it as 1.24 does. */
  readonly serviceIpMode?: boolean;
  /** Namespaces that exist at start (default: default, kube-system, kube-public, kube-node-lease, hairpin). */
  readonly namespaces?: readonly string[];
}

const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'hairpin'];

const NAMESPACES: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'namespaces',
  kind: 'Namespace',
  namespaced: false,
};

const CORE: ResourceType[] = [
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  {
    group: '',
    version: 'v1',
    plural: 'services',
    kind: 'Service',
    namespaced: true,
    statusSubresource: true,
  },
  { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  NAMESPACES,
  {
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'ingresses',
    kind: 'Ingress',
    namespaced: true,
    generation: true,
    statusSubresource: true,
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
    generation: true,
    statusSubresource: true,
  },
  {
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'httproutes',
    kind: 'HTTPRoute',
    namespaced: true,
    generation: true,
    statusSubresource: true,
  },
];

/** Reason phrases for injected failures, as the apiserver names them. */
const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function apiVersionOf(t: ResourceType): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

/** The resource as error messages name it: `configmaps`, `leases.coordination.k8s.io`. */
function qualified(t: ResourceType): string {
  return t.group === '' ? t.plural : `${t.plural}.${t.group}`;
}

function resourceDetails(t: ResourceType, name: string): Record<string, string> {
  return { name, ...(t.group === '' ? {} : { group: t.group }), kind: t.plural };
}

function notFound(t: ResourceType, name: string): ApiError {
  return new ApiError(
    404,
    'NotFound',
    `${qualified(t)} ${JSON.stringify(name)} not found`,
    resourceDetails(t, name),
  );
}

function conflict(t: ResourceType, name: string): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(t)} ${JSON.stringify(name)}: the object has been modified; please apply your changes to the latest version and try again`,
    resourceDetails(t, name),
  );
}

const NO_RESOURCE = () =>
  new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

const clone = <T>(o: T): T => structuredClone(o);

/** Whole seconds, UTC: how the apiserver serves a metav1.Time. */
function now(): string {
  return `${new Date().toISOString().slice(0, 19)}Z`;
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

/** A list item as the apiserver serves it: no kind, no apiVersion. */
function listItem(o: KubeObject): KubeObject {
  const { kind: _k, apiVersion: _a, ...rest } = o;
  return rest;
}

/** etcd's key order: by name within a namespace, by namespace/name across them. */
function orderKey(o: KubeObject, namespace: string | undefined): string {
  const name = o.metadata?.name ?? '';
  return namespace === undefined && o.metadata?.namespace !== undefined
    ? `${o.metadata.namespace}/${name}`
    : name;
}

function parseRv(value: string): number {
  if (!/^\d+$/.test(value)) {
    throw new ApiError(
      500,
      undefined,
      `resourceVersion: Invalid value: ${JSON.stringify(value)}: strconv.ParseUint: parsing ${JSON.stringify(value)}: invalid syntax`,
    );
  }
  return Number(value);
}

interface Route {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly status: boolean;
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
  /** Watches and lists from before this resourceVersion get 410 Expired. */
  private compactedBefore = 0;
  /** Lists that read storage from before this resourceVersion get 410 Expired. */
  private storageCompactedBefore = 0;
  private failures: {
    remaining: number;
    status: number;
    match: RegExp | undefined;
    method: string | undefined;
  }[] = [];
  private bookmarkTimer: NodeJS.Timeout | undefined;
  private readonly serviceIpMode: boolean;
  port = 0;

  private constructor(options: FakeApiServerOptions) {
    this.serviceIpMode = options.serviceIpMode ?? true;
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    for (const name of options.namespaces ?? DEFAULT_NAMESPACES) this.ensureNamespace(name);
    this.compactedBefore = this.rv;
  }

  static async start(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const fake = new FakeApiServer(options);
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

  /** A client-node KubeConfig pointed at this fake, no credentials. */
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

  /**
   * As an etcd compaction: lists that read storage (resourceVersionMatch=Exact, limit with
   * a resourceVersion, continue tokens from before now) get 410 Expired; watches and other
   * lists are served from the history the fake keeps, as the apiserver's watch cache does.
   */
  compactStorage(): void {
    this.storageCompactedBefore = this.rv;
  }

  /** Sends ERROR 410 on every open watch, then closes them (as after compaction). */
  expireWatches(): void {
    this.compact();
    const expired = new ApiError(410, 'Expired', 'too old resource version').status();
    for (const w of this.watchers) {
      w.res.end(`${JSON.stringify({ type: 'ERROR', object: expired })}\n`);
    }
    this.watchers.clear();
  }

  /** A BOOKMARK with the current resourceVersion to every watch that asked for them. */
  bookmark(): void {
    for (const w of this.watchers) if (w.bookmarks) this.sendBookmark(w);
  }

  private sendBookmark(w: Watcher): void {
    w.res.write(
      `${JSON.stringify({
        type: 'BOOKMARK',
        object: {
          kind: w.resource.kind,
          apiVersion: apiVersionOf(w.resource),
          metadata: { resourceVersion: String(this.rv), creationTimestamp: null },
        },
      })}\n`,
    );
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

  private namespaceExists(name: string): boolean {
    return this.objects.has(this.key(NAMESPACES, undefined, name));
  }

  private ensureNamespace(name: string): void {
    if (this.namespaceExists(name)) return;
    this.store('ADDED', NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
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

  /** Stores a new object: resourceVersion, uid, creationTimestamp, generation. */
  private store(type: 'ADDED', t: ResourceType, object: KubeObject): KubeObject {
    this.rv++;
    const stored: KubeObject = {
      ...clone(object),
      metadata: {
        ...clone(object.metadata),
        resourceVersion: String(this.rv),
        uid: randomUUID(),
        creationTimestamp: now(),
        ...(t.generation ? { generation: 1 } : {}),
      },
    };
    this.objects.set(this.key(t, stored.metadata?.namespace, stored.metadata!.name!), stored);
    this.emit(type, t, stored);
    return clone(stored);
  }

  create<T extends object>(input: T): T {
    const object = input as KubeObject;
    const t = this.typeOf(object.apiVersion ?? '', object.kind ?? '');
    if (t.namespaced) this.ensureNamespace(object.metadata?.namespace ?? 'default');
    return this.createObject(t, object) as T;
  }

  private createObject(t: ResourceType, object: KubeObject, dryRun = false): KubeObject {
    const generate = object.metadata?.['generateName'];
    // metadata.generateName: the server appends a random suffix, as the real one does.
    const name =
      object.metadata?.name ||
      (typeof generate === 'string' && generate !== ''
        ? `${generate}${Math.random().toString(36).slice(2, 7)}`
        : '');
    if (name === '') throw new ApiError(422, 'Invalid', 'name or generateName is required');
    object = { ...object, metadata: { ...object.metadata, name } };
    if (this.objects.has(this.key(t, object.metadata?.namespace, name))) {
      throw new ApiError(
        409,
        'AlreadyExists',
        `${qualified(t)} ${JSON.stringify(name)} already exists`,
        resourceDetails(t, name),
      );
    }
    if (dryRun) return { ...object, metadata: { ...object.metadata, uid: randomUUID() } };
    return this.store('ADDED', t, object);
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
    const object = input as KubeObject;
    const t = this.typeOf(object.apiVersion ?? '', object.kind ?? '');
    return this.replaceObject(t, object, checkVersion) as T;
  }

  private replaceObject(
    t: ResourceType,
    object: KubeObject,
    checkVersion: boolean,
    dryRun = false,
  ): KubeObject {
    const name = object.metadata?.name ?? '';
    const k = this.key(t, object.metadata?.namespace, name);
    const current = this.objects.get(k);
    if (current === undefined) throw notFound(t, name);
    const given = object.metadata?.resourceVersion;
    if (
      checkVersion &&
      given !== undefined &&
      given !== '' &&
      given !== current.metadata?.resourceVersion
    ) {
      throw conflict(t, name);
    }
    if (content(object) === content(current)) return clone(current);
    const specChanged =
      JSON.stringify(object['spec'] ?? null) !== JSON.stringify(current['spec'] ?? null);
    const next: KubeObject = {
      ...clone(object),
      metadata: {
        ...clone(object.metadata),
        resourceVersion: current.metadata?.resourceVersion ?? '',
        uid: current.metadata?.uid ?? '',
        creationTimestamp: current.metadata?.['creationTimestamp'],
        ...(t.generation
          ? { generation: Number(current.metadata?.['generation'] ?? 1) + (specChanged ? 1 : 0) }
          : {}),
      },
    };
    if (dryRun) return next;
    this.rv++;
    next.metadata!.resourceVersion = String(this.rv);
    this.objects.set(k, next);
    this.emit('MODIFIED', t, next);
    return clone(next);
  }

  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean {
    const t = this.typeOf(apiVersion, kind);
    return this.deleteObject(t, namespace, name) !== undefined;
  }

  private deleteObject(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
  ): KubeObject | undefined {
    const k = this.key(t, namespace, name);
    const current = this.objects.get(k);
    if (current === undefined) return undefined;
    this.objects.delete(k);
    this.rv++;
    const last = {
      ...current,
      metadata: { ...current.metadata, resourceVersion: String(this.rv) },
    };
    this.emit('DELETED', t, last);
    return current;
  }

  // --- HTTP -------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const query = Object.fromEntries(url.searchParams);
    const method = req.method ?? 'GET';
    const raw = method === 'GET' ? '' : await this.readBody(req);
    this.requests.push({
      method,
      path: url.pathname,
      query,
      ...(raw === '' ? {} : { body: raw }),
      at: performance.now(),
    });
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
      const reason = REASONS[failure.status] ?? 'InternalError';
      json(failure.status, new ApiError(failure.status, reason, 'injected failure').status());
      return;
    }
    try {
      const discovery = this.discovery(url.pathname);
      if (discovery !== undefined) {
        json(200, discovery);
        return;
      }
      const route = this.route(url.pathname);
      if (route === undefined) {
        // An API group that is not served (or no API path at all): the mux's own 404.
        res
          .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
          .end('404 page not found\n');
        return;
      }
      if (route === null) throw NO_RESOURCE();
      let body: unknown;
      if (raw !== '') {
        try {
          body = JSON.parse(raw);
        } catch (err) {
          throw new ApiError(400, 'BadRequest', `json: ${(err as Error).message}`);
        }
      }
      const result = await this.serve(method, route, query, body, req, res);
      if (result !== undefined) json(result.code, result.body);
    } catch (err) {
      if (res.headersSent) {
        res.end();
        return;
      }
      if (err instanceof ApiError) json(err.code, err.status());
      else json(500, new ApiError(500, 'InternalError', String(err)).status());
    }
  }

  /** One API request; undefined when it answered itself (a watch). */
  private async serve(
    method: string,
    route: Route,
    query: Record<string, string>,
    body: unknown,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{ code: number; body: unknown } | undefined> {
    const { type, namespace, name } = route;
    const dryRun = query['dryRun'] === 'All';
    if (query['dryRun'] !== undefined && !dryRun) {
      throw new ApiError(
        422,
        'Invalid',
        `CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{${JSON.stringify(query['dryRun'])}}: supported values: "All"`,
      );
    }
    if (method === 'GET' && name === undefined) {
      const matches = this.selector(query, type.kind);
      if (query['watch'] === 'true' || query['watch'] === '1') {
        this.watch(type, namespace, matches, query, res);
        return undefined;
      }
      return { code: 200, body: await this.listResponse(type, namespace, matches, query) };
    }
    if (method === 'GET') {
      const o = this.objects.get(this.key(type, namespace, name!));
      if (o === undefined) throw notFound(type, name!);
      return { code: 200, body: o };
    }
    if (method === 'POST' && name === undefined) {
      const o = this.incoming(type, namespace, body);
      if (namespace !== undefined && !this.namespaceExists(namespace))
        throw notFound(NAMESPACES, namespace);
      const decoded = decodeObject(type, o, { serviceIpMode: this.serviceIpMode });
      const invalid = validateObject(type, decoded, namespace);
      if (invalid !== undefined) throw invalid;
      if (type.kind === 'Service') this.defaultService(decoded, undefined);
      return { code: 201, body: this.createObject(type, decoded, dryRun) };
    }
    if (method === 'PUT' && name !== undefined) {
      const o = this.incoming(type, namespace, body);
      if (o.metadata?.name !== name) {
        throw new ApiError(
          400,
          'BadRequest',
          `the name of the object (${o.metadata?.name ?? ''}) does not match the name on the URL (${name})`,
        );
      }
      const decoded = decodeObject(type, o, { serviceIpMode: this.serviceIpMode });
      return { code: 200, body: this.update(route, decoded, dryRun) };
    }
    if (method === 'PATCH' && name !== undefined) {
      const current = this.objects.get(this.key(type, namespace, name));
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      const patch =
        contentType === 'application/merge-patch+json' ||
        contentType === 'application/strategic-merge-patch+json'
          ? mergePatch
          : contentType === 'application/json-patch+json'
            ? jsonPatch
            : undefined;
      if (patch === undefined) {
        throw new ApiError(415, 'UnsupportedMediaType', '415: Unsupported Media Type', {});
      }
      if (current === undefined) throw notFound(type, name);
      const patched = patch(current, body) as KubeObject;
      let decoded: KubeObject;
      try {
        decoded = decodeObject(type, patched, { serviceIpMode: this.serviceIpMode });
      } catch (err) {
        // A patched object that does not decode is a 422 on the field "patch".
        if (!(err instanceof ApiError)) throw err;
        const detail = err.message.replace(/^.* cannot be handled as a \w+: /, '');
        const message = `Invalid value: ${JSON.stringify(JSON.stringify(patched))}: ${detail}`;
        throw new ApiError(422, 'Invalid', ` "" is invalid: patch: ${message}`, {
          causes: [{ reason: 'FieldValueInvalid', message, field: 'patch' }],
        });
      }
      return { code: 200, body: this.update(route, decoded, dryRun) };
    }
    if (method === 'DELETE' && name !== undefined) {
      return { code: 200, body: this.deleteOne(type, namespace, name, body, dryRun) };
    }
    if (method === 'DELETE') {
      const matches = this.selector(query, type.kind);
      const listRv = this.rv;
      const victims = [...this.objects.values()].filter(
        (o) => this.inCollection(o, type, namespace) && matches(o),
      );
      const items = dryRun
        ? victims
        : victims.map((o) => this.deleteObject(type, o.metadata?.namespace, o.metadata!.name!)!);
      return {
        code: 200,
        body: {
          kind: `${type.kind}List`,
          apiVersion: apiVersionOf(type),
          metadata: { resourceVersion: String(listRv) },
          items: items.map(listItem),
        },
      };
    }
    throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method`);
  }

  /** A request body for a write: kind, apiVersion and the namespace of the URL. */
  private incoming(type: ResourceType, namespace: string | undefined, body: unknown): KubeObject {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ApiError(400, 'BadRequest', `the body of the request was in an unknown format`);
    }
    const o = body as KubeObject;
    const given = o.metadata?.namespace;
    if (namespace !== undefined && given !== undefined && given !== '' && given !== namespace) {
      throw new ApiError(
        400,
        'BadRequest',
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    return {
      ...o,
      apiVersion: apiVersionOf(type),
      kind: type.kind,
      metadata: { ...o.metadata, ...(namespace === undefined ? {} : { namespace }) },
    };
  }

  /** PUT or PATCH after decoding: status subresource rules, validation, optimistic lock. */
  private update(route: Route, decoded: KubeObject, dryRun: boolean): KubeObject {
    const { type, namespace, name } = route;
    const current = this.objects.get(this.key(type, namespace, name!));
    if (current === undefined) throw notFound(type, name!);
    let next = decoded;
    if (type.statusSubresource) {
      // /status writes only status; the main resource writes everything but status.
      const { status: _s, ...rest } = route.status ? current : decoded;
      const status = route.status ? decoded['status'] : current['status'];
      next = {
        ...rest,
        ...(status === undefined ? {} : { status }),
        metadata: { ...rest.metadata, resourceVersion: decoded.metadata?.resourceVersion ?? '' },
      };
      if (decoded.metadata?.resourceVersion === undefined) delete next.metadata!.resourceVersion;
    }
    const invalid = validateObject(type, next, namespace);
    if (invalid !== undefined) throw invalid;
    if (type.kind === 'Service') this.defaultService(next, current);
    return this.replaceObject(type, next, true, dryRun);
  }

  /**
   * A Service's defaults and allocations, as the apiserver fills them: type, ports'
   * protocol and targetPort, clusterIP(s) from 10.96.0.0/12, node ports for NodePort and
   * LoadBalancer, traffic policies, status.loadBalancer. A clusterIP never changes.
   */
  private defaultService(o: KubeObject, current: KubeObject | undefined): void {
    const t = this.typeOf('v1', 'Service');
    const name = o.metadata?.name ?? '';
    const spec = (o['spec'] ??= {}) as Record<string, unknown>;
    const before = (current?.['spec'] ?? {}) as Record<string, unknown>;
    spec['type'] ??= 'ClusterIP';
    spec['sessionAffinity'] ??= 'None';
    o['status'] ??= { loadBalancer: {} };
    if (spec['type'] === 'ExternalName') return;
    const used = new Set(
      [...this.objects.values()]
        .filter((x) => x.kind === 'Service' && x !== current)
        .flatMap((x) => {
          const s = (x['spec'] ?? {}) as { clusterIP?: string; ports?: { nodePort?: number }[] };
          return [s.clusterIP, ...(s.ports ?? []).map((p) => p.nodePort)];
        }),
    );
    const ipField = (ip: string, detail: string) =>
      invalidField(t, name, {
        reason: 'FieldValueInvalid',
        message: `Invalid value: []string{${JSON.stringify(ip)}}: ${detail}`,
        field: current === undefined ? 'spec.clusterIPs' : 'spec.clusterIPs[0]',
      });
    let ip = spec['clusterIP'] as string | undefined;
    if (current !== undefined && before['clusterIP'] !== undefined) {
      if (ip !== undefined && ip !== '' && ip !== before['clusterIP'])
        throw ipField(ip, 'may not change once set');
      ip = before['clusterIP'] as string;
    } else if (ip !== undefined && ip !== '' && ip !== 'None') {
      const octets = ip.split('.').map(Number);
      if (octets[0] !== 10 || (octets[1]! & 0xf0) !== 96) {
        throw ipField(
          ip,
          `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is 10.96.0.0/12`,
        );
      }
      if (used.has(ip))
        throw ipField(ip, `failed to allocate IP ${ip}: provided IP is already allocated`);
    } else if (ip !== 'None') {
      do {
        const n = 1 + Math.floor(Math.random() * 0xffffe);
        ip = `10.${96 + (n >> 16)}.${(n >> 8) & 0xff}.${n & 0xff}`;
      } while (used.has(ip));
    }
    spec['clusterIP'] = ip;
    spec['clusterIPs'] = [ip];
    spec['ipFamilies'] ??= ['IPv4'];
    spec['ipFamilyPolicy'] ??= 'SingleStack';
    spec['internalTrafficPolicy'] ??= 'Cluster';
    const external = spec['type'] === 'NodePort' || spec['type'] === 'LoadBalancer';
    if (external) spec['externalTrafficPolicy'] ??= 'Cluster';
    if (spec['type'] === 'LoadBalancer') spec['allocateLoadBalancerNodePorts'] ??= true;
    const ports = Array.isArray(spec['ports']) ? (spec['ports'] as Record<string, unknown>[]) : [];
    for (const port of ports) {
      port['protocol'] ??= 'TCP';
      port['targetPort'] ??= port['port'];
      if (external && port['nodePort'] === undefined) {
        let nodePort: number;
        do nodePort = 30000 + Math.floor(Math.random() * 2768);
        while (used.has(nodePort));
        port['nodePort'] = nodePort;
        used.add(nodePort);
      }
    }
  }

  private deleteOne(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    dryRun: boolean,
  ): object {
    const current = this.objects.get(this.key(type, namespace, name));
    if (current === undefined) throw notFound(type, name);
    const pre = (body as { preconditions?: { resourceVersion?: string; uid?: string } } | undefined)
      ?.preconditions;
    const cannot = (what: string) =>
      new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${type.kind} ${JSON.stringify(name)}: ${what}`,
        { name, ...(type.group === '' ? {} : { group: type.group }), kind: type.kind },
      );
    if (pre?.uid !== undefined && pre.uid !== current.metadata?.uid) {
      throw cannot(
        `the UID in the precondition (${pre.uid}) does not match the UID in record (${current.metadata?.uid ?? ''}). The object might have been deleted and then recreated`,
      );
    }
    if (
      pre?.resourceVersion !== undefined &&
      pre.resourceVersion !== current.metadata?.resourceVersion
    ) {
      throw cannot(
        `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${current.metadata?.resourceVersion ?? ''}). The object might have been modified`,
      );
    }
    if (!dryRun) this.deleteObject(type, namespace, name);
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { ...resourceDetails(type, name), uid: current.metadata?.uid ?? '' },
    };
  }

  private inCollection(o: KubeObject, type: ResourceType, namespace: string | undefined): boolean {
    return (
      o.apiVersion === apiVersionOf(type) &&
      o.kind === type.kind &&
      (namespace === undefined || o.metadata?.namespace === namespace)
    );
  }

  private async listResponse(
    type: ResourceType,
    namespace: string | undefined,
    matches: (o: KubeObject) => boolean,
    query: Record<string, string>,
  ): Promise<object> {
    const rvText = query['resourceVersion'];
    const match = query['resourceVersionMatch'];
    if (match !== undefined && (rvText === undefined || rvText === '')) {
      const message =
        'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided';
      throw new ApiError(
        422,
        'Invalid',
        `ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: ${message}`,
        {
          group: 'meta.k8s.io',
          kind: 'ListOptions',
          causes: [{ reason: 'FieldValueForbidden', message, field: 'resourceVersionMatch' }],
        },
      );
    }
    let listRv = this.rv;
    if (rvText !== undefined && rvText !== '' && rvText !== '0') {
      const rv = parseRv(rvText);
      if (rv > this.rv) {
        // The real server waits for its cache to catch up, then gives up.
        await new Promise((r) => setTimeout(r, 3_000));
        if (rv > this.rv) {
          throw new ApiError(
            504,
            'Timeout',
            `Timeout: Too large resource version: ${rv}, current: ${this.rv}`,
            {
              causes: [
                { reason: 'ResourceVersionTooLarge', message: 'Too large resource version' },
              ],
              retryAfterSeconds: 1,
            },
          );
        }
      }
      const fromEtcd = match === 'Exact' || query['limit'] !== undefined;
      if (fromEtcd && rv < Math.max(this.compactedBefore, this.storageCompactedBefore)) {
        throw new ApiError(410, 'Expired', 'The resourceVersion for the provided list is too old.');
      }
    }
    let items = [...this.objects.values()]
      .filter((o) => this.inCollection(o, type, namespace) && matches(o))
      .sort((a, b) => orderKey(a, namespace).localeCompare(orderKey(b, namespace)));
    const metadata: Record<string, unknown> = {};
    if (query['continue'] !== undefined) {
      const token = decodeContinue(query['continue']);
      if (token.rv < Math.max(this.compactedBefore, this.storageCompactedBefore)) {
        throw new ApiError(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          undefined,
          { continue: encodeContinue(-1, token.start) },
        );
      }
      listRv = token.rv;
      items = items.filter((o) => orderKey(o, namespace) >= token.start);
    }
    const limit = Number(query['limit'] ?? 0);
    if (limit > 0 && items.length > limit) {
      const rest = items.length - limit;
      items = items.slice(0, limit);
      metadata['continue'] = encodeContinue(
        listRv,
        `${orderKey(items[limit - 1]!, namespace)}\u0000`,
      );
      metadata['remainingItemCount'] = rest;
    }
    return {
      kind: `${type.kind}List`,
      apiVersion: apiVersionOf(type),
      metadata: { resourceVersion: String(listRv), ...metadata },
      items: items.map(listItem),
    };
  }

  private readBody(req: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      let data = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (data += c));
      req.on('end', () => resolve(data));
      req.on('error', reject);
    });
  }

  private selector(query: Record<string, string>, kind: string): (o: KubeObject) => boolean {
    const labels = labelSelector(query['labelSelector'] ?? '');
    const fields = fieldSelector(query['fieldSelector'] ?? '', kind);
    return (o) => labels(o) && fields(o);
  }

  private watch(
    type: ResourceType,
    namespace: string | undefined,
    matches: (o: KubeObject) => boolean,
    query: Record<string, string>,
    res: ServerResponse,
  ): void {
    const from = query['resourceVersion'] ?? '';
    const fromRv = from === '' || from === '0' ? undefined : parseRv(from);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const watcher: Watcher = {
      resource: type,
      namespace,
      matches,
      res,
      bookmarks: query['allowWatchBookmarks'] === 'true',
    };
    if (fromRv !== undefined && fromRv < this.compactedBefore) {
      const expired = new ApiError(
        410,
        'Expired',
        `too old resource version: ${from} (${this.compactedBefore})`,
      );
      res.end(`${JSON.stringify({ type: 'ERROR', object: expired.status() })}\n`);
      return;
    }
    if (fromRv === undefined) {
      for (const o of this.objects.values()) {
        if (o.apiVersion === apiVersionOf(type) && o.kind === type.kind) {
          this.send(watcher, { rv: this.rv, type: 'ADDED', resource: type, object: o });
        }
      }
    } else {
      for (const e of this.history) if (e.rv > fromRv) this.send(watcher, e);
    }
    this.watchers.add(watcher);
    const timeout = Number(query['timeoutSeconds'] ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    // The real server sends a bookmark about 2 s before a watch's deadline.
    const lastBookmark =
      watcher.bookmarks && timeout > 2
        ? setTimeout(() => this.sendBookmark(watcher), (timeout - 2) * 1000)
        : undefined;
    res.on('close', () => {
      clearTimeout(timer);
      clearTimeout(lastBookmark);
      this.watchers.delete(watcher);
    });
  }

  /** Discovery documents; undefined when the path is not one. */
  private discovery(path: string): object | undefined {
    if (path === '/api' || path === '/api/') {
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.url }],
      };
    }
    const groups = [...new Set(this.types.filter((t) => t.group !== '').map((t) => t.group))];
    const groupDoc = (g: string) => ({
      name: g,
      versions: [{ groupVersion: `${g}/v1`, version: 'v1' }],
      preferredVersion: { groupVersion: `${g}/v1`, version: 'v1' },
    });
    if (path === '/apis' || path === '/apis/') {
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(groupDoc) };
    }
    const resourceList = (group: string, version: string): object | undefined => {
      const types = this.types.filter((t) => t.group === group && t.version === version);
      if (types.length === 0) return undefined;
      return {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: group === '' ? version : `${group}/${version}`,
        resources: types.flatMap((t) => [
          {
            name: t.plural,
            singularName: '',
            namespaced: t.namespaced,
            kind: t.kind,
            verbs: [
              'create',
              'delete',
              'deletecollection',
              'get',
              'list',
              'patch',
              'update',
              'watch',
            ],
          },
          ...(t.statusSubresource
            ? [
                {
                  name: `${t.plural}/status`,
                  singularName: '',
                  namespaced: t.namespaced,
                  kind: t.kind,
                  verbs: ['get', 'patch', 'update'],
                },
              ]
            : []),
        ]),
      };
    };
    if (path === '/api/v1') return resourceList('', 'v1');
    const m = /^\/apis\/([^/]+)(?:\/([^/]+))?\/?$/.exec(path);
    if (m === null || !groups.includes(m[1]!)) return undefined;
    if (m[2] === undefined) return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(m[1]!) };
    return resourceList(m[1]!, m[2]);
  }

  /**
   * The resource a path names. undefined: not an API path of a served group (the text 404);
   * null: a served group, but no such version or resource (the JSON 404).
   */
  private route(path: string): Route | null | undefined {
    let group: string;
    let version: string;
    let rest: string[];
    const parts = path.split('/').slice(1);
    if (parts[0] === 'api' && parts.length >= 2) {
      group = '';
      version = parts[1]!;
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 3) {
      group = parts[1]!;
      version = parts[2]!;
      rest = parts.slice(3);
      if (!this.types.some((t) => t.group === group)) return undefined;
    } else return undefined;
    if (rest.some((p) => p === '')) return null;
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = decodeURIComponent(rest[1]!);
      rest = rest.slice(2);
    }
    const [plural, name, sub, ...extra] = rest;
    if (plural === undefined || extra.length > 0) return null;
    const type = this.types.find(
      (t) => t.group === group && t.version === version && t.plural === plural,
    );
    if (type === undefined) return null;
    if (sub !== undefined && !(sub === 'status' && type.statusSubresource)) return null;
    if (!type.namespaced && namespace !== undefined) return null;
    return {
      type,
      namespace,
      name: name === undefined ? undefined : decodeURIComponent(name),
      status: sub === 'status',
    };
  }
}
