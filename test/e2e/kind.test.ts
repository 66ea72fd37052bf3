// End to end on a kind cluster: ingress-nginx behind a "load balancer" that speaks the
// PROXY protocol (use-proxy-protocol: "true"), hairpin installed from manifests/, and a
// pod proving the hairpin works. Needs docker, kind and kubectl; without them, or without
// a reachable cluster, it skips with one line.
//
//   pnpm test:e2e                      creates (or reuses) the kind cluster "hairpin-e2e"
//   HAIRPIN_E2E_KEEP=1 pnpm test:e2e   leaves the cluster (or what it installed) afterwards
//   HAIRPIN_E2E_CONTEXT=k3d-dev pnpm test:e2e
//                                      any cluster, by kubeconfig context (k3d, minikube,
//                                      kind): the image is loaded with the tool the context
//                                      names (kind-*, k3d-*, minikube), or pulled from
//                                      HAIRPIN_E2E_IMAGE when that names one the cluster can pull
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const CLUSTER = 'hairpin-e2e';
/** A cluster the user names; unset: the kind cluster above, created when missing. */
const NAMED = process.env['HAIRPIN_E2E_CONTEXT']?.trim() || undefined;
const CONTEXT = NAMED ?? `kind-${CLUSTER}`;
/** An image the cluster can pull; unset: built here and loaded into the cluster. */
const PULLED = process.env['HAIRPIN_E2E_IMAGE']?.trim() || undefined;
const IMAGE = PULLED ?? 'hairpin:e2e';
// Pinned: the ingress-nginx release whose manifest is applied: kind's (hostPorts on the
// node labelled ingress-ready) on the kind cluster, the bare-metal one (a NodePort) elsewhere.
const INGRESS_NGINX = `https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v1.12.1/deploy/static/provider/${NAMED === undefined ? 'kind' : 'baremetal'}/deploy.yaml`;
const repo = fileURLToPath(new URL('../../', import.meta.url));

function ok(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore', timeout: 20_000 }).status === 0;
}

/** How the image gets into a named cluster: by the tool its context's name says. */
function loader(context: string): { tool: string; args: string[] } | undefined {
  const kind = /^kind-(.+)$/.exec(context);
  if (kind !== null)
    return { tool: 'kind', args: ['load', 'docker-image', IMAGE, '--name', kind[1]!] };
  const k3d = /^k3d-(.+)$/.exec(context);
  if (k3d !== null) return { tool: 'k3d', args: ['image', 'import', IMAGE, '--cluster', k3d[1]!] };
  // minikube names the context after its profile (default "minikube").
  if (
    ok('sh', ['-c', 'command -v minikube']) &&
    ok('minikube', ['profile', 'list', '-o', 'json'])
  ) {
    return { tool: 'minikube', args: ['image', 'load', IMAGE, '--profile', context] };
  }
  return undefined;
}

function whyNot(): string | undefined {
  const installed = (tool: string) => ok('sh', ['-c', `command -v ${tool}`]);
  if (NAMED === undefined) {
    for (const tool of ['docker', 'kind', 'kubectl'])
      if (!installed(tool)) return `${tool} is not installed`;
    return ok('docker', ['info']) ? undefined : 'no Docker engine is reachable';
  }
  if (!installed('kubectl')) return 'kubectl is not installed';
  if (!ok('kubectl', ['--context', NAMED, '--request-timeout=10s', 'get', '--raw', '/readyz'])) {
    return `the cluster of context ${NAMED} is not reachable`;
  }
  if (PULLED !== undefined) return undefined;
  if (!installed('docker') || !ok('docker', ['info'])) {
    return 'no Docker engine is reachable to build the image; or set HAIRPIN_E2E_IMAGE';
  }
  if (loader(NAMED) === undefined) {
    return `no way to load an image into context ${NAMED} (kind-*, k3d-* or minikube); set HAIRPIN_E2E_IMAGE to an image it can pull`;
  }
  return undefined;
}

const skipReason = whyNot();
if (skipReason !== undefined) {
  process.stdout.write(
    NAMED === undefined
      ? `e2e: skipped (${skipReason}); the kind suite needs docker, kind and kubectl, or HAIRPIN_E2E_CONTEXT naming a cluster\n`
      : `e2e: skipped (${skipReason}); HAIRPIN_E2E_CONTEXT=${NAMED} needs kubectl and a reachable cluster\n`,
  );
}

function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 600_000,
  });
}
const kubectl = (...args: string[]) => run('kubectl', ['--context', CONTEXT, ...args]);
const corefile = () =>
  kubectl('-n', 'kube-system', 'get', 'configmap', 'coredns', '-o', 'jsonpath={.data.Corefile}');
const apply = (yaml: string) => run('kubectl', ['--context', CONTEXT, 'apply', '-f', '-'], yaml);
const remove = (yaml: string) =>
  run('kubectl', ['--context', CONTEXT, 'delete', '--ignore-not-found', '-f', '-'], yaml);

async function eventually<T>(what: string, fn: () => T, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: ${String(last)}`);
    await new Promise((r) => setTimeout(r, 3_000));
  }
}

const HAIRPIN_MANIFESTS = [
  '00-namespace.yaml',
  '10-relay.yaml',
  '20-dns-controller.yaml',
  'hosts-agent/hosts-agent.yaml',
];
const manifest = (file: string) =>
  readFileSync(join(repo, 'manifests', file), 'utf8').replaceAll(
    'ghcr.io/hairpin-dev/hairpin:0.1.0',
    IMAGE,
  );

/** Runs a command in a throwaway pod; returns its output. */
function inPod(name: string, command: string): string {
  kubectl('delete', 'pod', name, '--ignore-not-found', '--wait=true');
  return kubectl(
    'run',
    name,
    '--rm',
    '-i',
    '--restart=Never',
    '--pod-running-timeout=5m',
    '--image=curlimages/curl:8.11.1',
    '--command',
    '--',
    'sh',
    '-c',
    command,
  );
}

describe.skipIf(skipReason !== undefined)('hairpin on kind', () => {
  let created = false;

  beforeAll(() => {
    if (NAMED === undefined && !run('kind', ['get', 'clusters']).split('\n').includes(CLUSTER)) {
      const config = join(mkdtempSync(join(tmpdir(), 'hairpin-kind-')), 'kind.yaml');
      writeFileSync(
        config,
        'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  labels: {ingress-ready: "true"}\n- role: worker\n',
      );
      run('kind', ['create', 'cluster', '--name', CLUSTER, '--config', config, '--wait', '180s']);
      created = true;
    }
    if (PULLED === undefined) {
      const commit = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' });
      run('docker', [
        'build',
        '-t',
        IMAGE,
        '--build-arg',
        `HAIRPIN_COMMIT=${commit.status === 0 ? commit.stdout.trim() : 'unknown'}`,
        repo,
      ]);
      const load = loader(CONTEXT)!;
      run(load.tool, load.args);
    }

    // ingress-nginx expecting the PROXY protocol, as behind a cloud load balancer.
    apply(run('curl', ['-fsSL', INGRESS_NGINX]));
    kubectl(
      '-n',
      'ingress-nginx',
      'patch',
      'configmap',
      'ingress-nginx-controller',
      '--type',
      'merge',
      '-p',
      '{"data":{"use-proxy-protocol":"true"}}',
    );
    kubectl('-n', 'ingress-nginx', 'rollout', 'restart', 'deployment/ingress-nginx-controller');
    kubectl(
      '-n',
      'ingress-nginx',
      'rollout',
      'status',
      'deployment/ingress-nginx-controller',
      '--timeout=300s',
    );
    // The admission webhook's certificate Jobs must finish before an Ingress is accepted.
    kubectl(
      '-n',
      'ingress-nginx',
      'wait',
      '--for=condition=complete',
      'job',
      '--all',
      '--timeout=300s',
    );

    // hairpin from manifests/, with the image built here (or the one named).
    for (const file of HAIRPIN_MANIFESTS) apply(manifest(file));
    for (const d of [
      'deployment/hairpin-relay',
      'deployment/hairpin-dns-controller',
      'daemonset/hairpin-hosts-agent',
    ]) {
      kubectl('-n', 'hairpin', 'rollout', 'status', d, '--timeout=300s');
    }
    // A backend and its Ingress.
    kubectl(
      'create',
      'deployment',
      'echo',
      '--image=registry.k8s.io/e2e-test-images/agnhost:2.53',
      '--',
      '/agnhost',
      'netexec',
      '--http-port=8080',
    );
    kubectl('expose', 'deployment', 'echo', '--port=80', '--target-port=8080');
    kubectl('rollout', 'status', 'deployment/echo', '--timeout=300s');
  }, 1_800_000);

  afterAll(() => {
    if (process.env['HAIRPIN_E2E_KEEP'] === '1') return;
    if (created) run('kind', ['delete', 'cluster', '--name', CLUSTER]);
    else if (NAMED !== undefined) {
      // Someone's cluster: take away what the suite installed (the Ingress is gone already).
      kubectl('delete', 'deployment,service', 'echo', '--ignore-not-found');
      for (const file of HAIRPIN_MANIFESTS.toReversed()) remove(manifest(file));
      remove(run('curl', ['-fsSL', INGRESS_NGINX]));
    }
  }, 600_000);

  test('without the header the ingress refuses a plain request (the hairpin problem)', () => {
    const out = inPod(
      'plain',
      'curl -s -o /dev/null -w "%{http_code}" --max-time 5 -H "Host: echo.hairpin.test" http://ingress-nginx-controller.ingress-nginx/; echo',
    );
    // nginx reads "GET / HTTP/1.1" as a broken PROXY header and closes: no HTTP status.
    expect(out).toMatch(/^000$/m);
  });

  test("through the hostname it works, and nginx saw the pod's own IP", async () => {
    // The webhook may refuse for a few seconds after ingress-nginx restarts.
    await eventually('Ingress created', () =>
      kubectl('create', 'ingress', 'echo', '--class=nginx', '--rule=echo.hairpin.test/*=echo:80'),
    );
    await eventually('host in the Corefile', () => {
      expect(corefile()).toMatch(
        /\n\s*[0-9a-f.:]+ (?:\S+ )*echo\.hairpin\.test(?: \S+)* # managed by hairpin\r?\n/,
      );
    });
    // CoreDNS reloads its Corefile after the kubelet syncs the ConfigMap: up to ~2 minutes.
    const body = await eventually(
      'request through the relay',
      () => {
        const out = inPod(
          'hairpin-check',
          'echo "podip=$(hostname -i)"; curl -sf --max-time 5 http://echo.hairpin.test/header?key=X-Forwarded-For; echo',
        );
        expect(out).toMatch(/podip=/);
        return out;
      },
      240_000,
    );
    const podIP = /podip=(\S+)/.exec(body)![1]!;
    // ingress-nginx sets X-Forwarded-For from the PROXY header: the pod's own address.
    expect(body).toContain(podIP);
    const logs = kubectl(
      '-n',
      'ingress-nginx',
      'logs',
      'deployment/ingress-nginx-controller',
      '--tail=200',
    );
    expect(logs).toContain(podIP);
  }, 600_000);

  test("the hosts agent writes the node's /etc/hosts", async () => {
    // Read through an agent pod's mount of its node's file, which works on any cluster (the
    // image has no shell: node reads it).
    await eventually('managed line on the node', () => {
      expect(
        kubectl(
          '-n',
          'hairpin',
          'exec',
          'daemonset/hairpin-hosts-agent',
          '--',
          '/nodejs/bin/node',
          '-e',
          "process.stdout.write(require('fs').readFileSync('/host/etc/hosts', 'utf8'))",
        ),
      ).toMatch(/ echo\.hairpin\.test # managed by hairpin/);
    });
  }, 300_000);

  test('removing the Ingress removes the rule', async () => {
    kubectl('delete', 'ingress', 'echo');
    await eventually('rule removed', () => {
      expect(corefile()).not.toContain('echo.hairpin.test');
    });
  }, 300_000);
});
