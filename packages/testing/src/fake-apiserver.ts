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
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { discovery as discoveryDoc, route as routeOf } from './kube-discovery.ts';
import type { KubeObject } from './kube-requests.ts';
import { clone, DEFAULT_NAMESPACES, GATEWAY_API, NO_RESOURCE, REASONS } from './kube-resources.ts';
import { serve } from './kube-serve.ts';
import { KubeStore } from './kube-store.ts';
import { ApiError } from './kube-validation.ts';
import { sendBookmark } from './kube-watch.ts';

export type { KubeObject } from './kube-requests.ts';

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  /** The request body as sent, for writes. */
  readonly body?: string;
  /** performance.now() when the request arrived. */
  readonly at: number;
  /** The response's status code, once it is sent. */
  status?: number;
}

export interface FakeApiServerOptions {
  /** Period of BOOKMARK events on watches that allow them (default 1 s; the real one ~1 min). */
  readonly bookmarkIntervalMs?: number;
  /** Keep Service status.loadBalancer.ingress[].ipMode (1.29+, the default); false drops it as 1.24 does. */
  readonly serviceIpMode?: boolean;
  /** Namespaces that exist at start (default: default, kube-system, kube-public, kube-node-lease, hairpin). */
  readonly namespaces?: readonly string[];
}

export class FakeApiServer {
  readonly requests: RequestRecord[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly store = new KubeStore();
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
    for (const name of options.namespaces ?? DEFAULT_NAMESPACES) this.store.ensureNamespace(name);
    this.store.compactedBefore = this.store.rv;
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
    for (const w of this.store.watchers) w.res.socket?.destroy();
    this.store.watchers.clear();
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
    this.store.compactedBefore = this.store.rv;
    this.store.history.length = 0;
  }

  /**
   * As an etcd compaction: lists that read storage (resourceVersionMatch=Exact, limit with
   * a resourceVersion, continue tokens from before now) get 410 Expired; watches and other
   * lists are served from the history the fake keeps, as the apiserver's watch cache does.
   */
  compactStorage(): void {
    this.store.storageCompactedBefore = this.store.rv;
  }

  /** Sends ERROR 410 on every open watch, then closes them (as after compaction). */
  expireWatches(): void {
    this.compact();
    const expired = new ApiError(410, 'Expired', 'too old resource version').status();
    for (const w of this.store.watchers) {
      w.res.end(`${JSON.stringify({ type: 'ERROR', object: expired })}\n`);
    }
    this.store.watchers.clear();
  }

  /** A BOOKMARK with the current resourceVersion to every watch that asked for them. */
  bookmark(): void {
    for (const w of this.store.watchers) if (w.bookmarks) sendBookmark(w, this.store.rv);
  }

  /** As if the Gateway API CRDs had been applied: the group appears in discovery. */
  installGatewayApi(): void {
    for (const t of GATEWAY_API) if (!this.store.types.includes(t)) this.store.types.push(t);
  }

  get openWatches(): number {
    return this.store.watchers.size;
  }

  // --- direct store access (emits watch events like API writes do) --------------------

  create<T extends object>(input: T): T {
    const object = input as KubeObject;
    const t = this.store.typeOf(object.apiVersion ?? '', object.kind ?? '');
    if (t.namespaced) this.store.ensureNamespace(object.metadata?.namespace ?? 'default');
    return this.store.createObject(t, object) as T;
  }

  get(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): KubeObject | undefined {
    const o = this.store.objects.get(
      this.store.key(this.store.typeOf(apiVersion, kind), namespace, name),
    );
    return o === undefined ? undefined : clone(o);
  }

  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    const t = this.store.typeOf(apiVersion, kind);
    return [...this.store.objects.values()]
      .filter((o) => o.apiVersion === apiVersion && o.kind === kind)
      .filter(
        (o) => !t.namespaced || namespace === undefined || o.metadata?.namespace === namespace,
      )
      .map(clone);
  }

  /** Replace; `checkVersion` makes a stale metadata.resourceVersion a 409, as PUT does. */
  replace<T extends object>(input: T, checkVersion = false): T {
    const object = input as KubeObject;
    const t = this.store.typeOf(object.apiVersion ?? '', object.kind ?? '');
    return this.store.replaceObject(t, object, checkVersion) as T;
  }

  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean {
    const t = this.store.typeOf(apiVersion, kind);
    return this.store.deleteObject(t, namespace, name) !== undefined;
  }

  // --- HTTP -------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const query = Object.fromEntries(url.searchParams);
    const method = req.method ?? 'GET';
    const raw = method === 'GET' ? '' : await this.readBody(req);
    const record: RequestRecord = {
      method,
      path: url.pathname,
      query,
      ...(raw === '' ? {} : { body: raw }),
      at: performance.now(),
    };
    this.requests.push(record);
    res.once('finish', () => (record.status = res.statusCode));
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
      const discovery = discoveryDoc(this.store.types, this.url, url.pathname);
      if (discovery !== undefined) {
        json(200, discovery);
        return;
      }
      const route = routeOf(this.store.types, url.pathname);
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
      const result = await serve(
        this.store,
        this.serviceIpMode,
        method,
        route,
        query,
        body,
        req,
        res,
      );
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

  private readBody(req: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      let data = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (data += c));
      req.on('end', () => resolve(data));
      req.on('error', reject);
    });
  }
}
