// The agent against the fake API server (driven by the real client) and a real file.
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePublishedHosts, HOSTS_CONFIGMAP_NAME } from '@hairpin/shared';
import { createLogger, silentLogger } from '@hairpin/shared/runtime';
import { FakeApiServer, waitFor } from '@hairpin/testing';
import { Registry } from 'prom-client';
import { afterEach, expect, test } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { runHostsAgent } from '../src/run.ts';

const base = '127.0.0.1 localhost\n10.0.0.5 other-tool.example.com # written by someone else\n';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function hostsConfigMap(
  hosts: string[],
  relayIP = '10.96.0.50',
  extra: Record<string, string> = {},
) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: HOSTS_CONFIGMAP_NAME, namespace: 'hairpin' },
    data: { ...encodePublishedHosts({ hosts, relayIP }), ...extra },
  };
}

async function setup(initial: string | Buffer = base) {
  const fake = await FakeApiServer.start({ bookmarkIntervalMs: 200 });
  const file = join(mkdtempSync(join(tmpdir(), 'hairpin-agent-')), 'hosts');
  writeFileSync(file, initial);
  const registry = new Registry();
  const config = loadConfig(
    ['--hosts-file', file, '--resync', '200ms', '--admin', '127.0.0.1:0'],
    {},
  );
  // The process's own wiring; the agent starts when the test says.
  let started: ReturnType<typeof runHostsAgent> | undefined;
  let running: Awaited<ReturnType<typeof runHostsAgent>> | undefined;
  const agent = {
    start: () => {
      started = runHostsAgent(config, {
        kubeConfig: fake.kubeConfig(),
        log:
          process.env['HAIRPIN_TEST_LOG'] === '1'
            ? createLogger({ level: 'debug' })
            : silentLogger(),
        registry,
        debounceMs: 10,
      });
      void started.then((r) => (running = r));
    },
    notReadyReason: () => (running === undefined ? 'not started' : running.agent.notReadyReason()),
    get lastError(): unknown {
      return running?.agent.lastError;
    },
  };
  cleanups.push(async () => {
    await (await started)?.stop();
    await fake.stop();
  });
  const read = () => readFileSync(file, 'utf8');
  const written = async () =>
    await registry.getSingleMetricAsString('hairpin_hosts_agent_writes_total');
  return { fake, file, agent, read, registry, written };
}

const line = (hosts: string, ip = '10.96.0.50') => `${ip} ${hosts} # managed by hairpin\n`;

test('publishes become lines; updates replace them; other lines stay', async () => {
  const { fake, agent, read, registry } = await setup();
  fake.create(hostsConfigMap(['shop.example.com', 'api.example.com']));
  agent.start();
  await waitFor(() => read() === base + line('api.example.com shop.example.com'));
  await waitFor(() => agent.notReadyReason() === null);
  fake.replace(hostsConfigMap(['registry.example.com'], '10.96.0.51'));
  await waitFor(() => read() === base + line('registry.example.com', '10.96.0.51'));
  await waitFor(async () =>
    (await registry.getSingleMetricAsString('hairpin_hosts_agent_managed_hosts')).includes(
      'hairpin_hosts_agent_managed_hosts 1',
    ),
  );
});

test('someone rewrites the file: our lines are repaired', async () => {
  const { fake, agent, read, file } = await setup();
  fake.create(hostsConfigMap(['shop.example.com']));
  agent.start();
  await waitFor(() => read().endsWith(line('shop.example.com')));
  writeFileSync(file, `${base}# a tool rewrote the file\n`);
  await waitFor(() => read() === `${base}# a tool rewrote the file\n${line('shop.example.com')}`);
});

test('an API outage or a restart never removes lines; deletion does', async () => {
  const { fake, agent, read } = await setup(base + line('shop.example.com'));
  fake.create(hostsConfigMap(['shop.example.com']));
  agent.start();
  await waitFor(() => agent.notReadyReason() === null);
  await fake.refuseConnections();
  await new Promise((r) => setTimeout(r, 600));
  expect(read()).toBe(base + line('shop.example.com'));
  await fake.resumeConnections();
  fake.delete('v1', 'ConfigMap', 'hairpin', HOSTS_CONFIGMAP_NAME);
  await waitFor(() => read() === base, 15_000);
});

test('Latin-1 bytes of other tools and a missing final newline come back exactly', async () => {
  const original = Buffer.from('127.0.0.1 localhost\n10.0.0.9 caf\xe9.local # caf\xe9', 'latin1');
  const { fake, agent, file } = await setup(original);
  const bytes = () => readFileSync(file);
  fake.create(hostsConfigMap(['shop.example.com']));
  agent.start();
  const added = '# hairpin added the line break above # managed by hairpin';
  const edited = Buffer.concat([original, Buffer.from(`\n${added}\n${line('shop.example.com')}`)]);
  await waitFor(() => bytes().equals(edited));
  fake.delete('v1', 'ConfigMap', 'hairpin', HOSTS_CONFIGMAP_NAME);
  await waitFor(() => bytes().equals(original), 15_000);
});

test('before the first successful list nothing is touched; absent after a list means removed', async () => {
  const { fake, agent, read } = await setup(
    base + line('old.example.com') + '10.0.0.9\tlegacy.example.com # Added by hairpin-proxy\n',
  );
  fake.failNext(2, 503, /configmaps$/);
  agent.start();
  await new Promise((r) => setTimeout(r, 100));
  expect(read()).toContain('old.example.com');
  // The list succeeds on a retry, finds no hairpin-hosts: uninstalled, so lines go (legacy too).
  await waitFor(() => read() === base, 15_000);
});

test('invalid published data changes nothing and is counted', async () => {
  const { fake, agent, read, written } = await setup(base + line('shop.example.com'));
  fake.create(hostsConfigMap(['shop.example.com'], 'not-an-ip'));
  agent.start();
  await waitFor(
    () => agent.notReadyReason() === null || agent.lastError !== undefined,
    3_000,
  ).catch(() => {});
  await new Promise((r) => setTimeout(r, 300));
  expect(read()).toBe(base + line('shop.example.com'));
  expect(await written()).toContain('hairpin_hosts_agent_writes_total{result="error"} 1');
});

test('hostile hostnames in the ConfigMap are skipped, valid ones written', async () => {
  const { fake, agent, read } = await setup();
  fake.create(
    hostsConfigMap([], '10.96.0.50', {
      hosts: 'good.example.com\nevil.example.com 10.0.0.1 bank.com\nlocalhost.localdomain\n',
    }),
  );
  agent.start();
  await waitFor(() => read() === base + line('good.example.com'));
});

test('a hosts file that cannot be written: the agent stays up, not ready, counts and retries', async () => {
  const { fake, agent, file, written } = await setup();
  // A directory where the file should be: open() fails (as EACCES or EROFS would).
  rmSync(file);
  mkdirSync(file);
  fake.create(hostsConfigMap(['shop.example.com']));
  agent.start();
  await waitFor(async () => /result="error"\} [2-9]/.test(await written()), 10_000);
  expect(agent.notReadyReason()).toBe('hosts file not synced yet');
  expect((agent.lastError as NodeJS.ErrnoException).code).toBe('EISDIR');
  // Fixed on the node: the next retry writes it, and the agent becomes ready.
  rmdirSync(file);
  writeFileSync(file, base);
  await waitFor(() => readFileSync(file, 'utf8') === base + line('shop.example.com'), 15_000);
  await waitFor(() => agent.notReadyReason() === null);
});
