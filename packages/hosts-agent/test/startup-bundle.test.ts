// A startup failure of the built hosts-agent: one line on stderr, no stack trace, the documented
// exit code (docs/install.md: invalid configuration 2, an address that cannot be bound 1).
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminStartupMismatches, runNode, unreachableKubeconfig } from '@hairpin/testing';
import { expect, test } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

test('admin address in use, not available, or not an IP: one line each, exit 1 or 2', async () => {
  expect(existsSync(main), 'run `pnpm build` first (pnpm test does)').toBe(true);
  expect(await adminStartupMismatches(main, [], { KUBECONFIG: unreachableKubeconfig() })).toEqual(
    [],
  );
});

test('no cluster configured (no service account, KUBECONFIG or ~/.kube/config): one line, exit 1', async () => {
  const home = mkdtempSync(join(tmpdir(), 'hairpin-home-'));
  const r = await runNode(main, ['--admin', '127.0.0.1:0'], { env: { HOME: home } });
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(
    'fatal: no Kubernetes cluster configured: not in a pod (no service account), KUBECONFIG is unset and ~/.kube/config does not exist\n',
  );
});
