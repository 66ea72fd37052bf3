// The built agent as the DaemonSet runs it: KUBECONFIG to the fake API server, a real
// hosts file; SIGTERM exits 0 and leaves the managed lines in place.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePublishedHosts, HOSTS_CONFIGMAP_NAME } from '@hairpin/shared';
import { FakeApiServer, waitFor } from '@hairpin/testing';
import { afterEach, expect, test } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
let fake: FakeApiServer | undefined;
afterEach(async () => {
  await fake?.stop();
});

test('writes the published hosts; SIGTERM exits 0 and keeps them', async () => {
  expect(existsSync(main), 'run `pnpm build` first (pnpm test does)').toBe(true);
  fake = await FakeApiServer.start();
  fake.create({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: HOSTS_CONFIGMAP_NAME, namespace: 'hairpin' },
    data: encodePublishedHosts({ hosts: ['registry.example.com'], relayIP: '10.96.0.50' }),
  });
  const hosts = join(mkdtempSync(join(tmpdir(), 'hairpin-agent-')), 'hosts');
  writeFileSync(hosts, '127.0.0.1 localhost\n');
  const child = spawn(process.execPath, [main, '--hosts-file', hosts, '--admin', '127.0.0.1:0'], {
    env: {
      PATH: process.env['PATH'] ?? '',
      KUBECONFIG: fake.kubeconfigFile(),
      NODE_NAME: 'node-1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  child.stdout.on('data', (c: Buffer) => (logs += c.toString()));
  child.stderr.on('data', (c: Buffer) => (logs += c.toString()));
  const line = '10.96.0.50 registry.example.com # managed by hairpin\n';
  try {
    await waitFor(() => readFileSync(hosts, 'utf8') === `127.0.0.1 localhost\n${line}`);
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = (await once(child, 'exit')) as [number];
  expect(code).toBe(0);
  expect(logs).toContain('managed lines stay in place');
  expect(readFileSync(hosts, 'utf8')).toBe(`127.0.0.1 localhost\n${line}`);
});
