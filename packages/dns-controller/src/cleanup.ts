// `hairpin-dns-controller cleanup`, the documented uninstall step: removes every managed
// rule (marker, content, legacy) from every configured Corefile and the import key, and
// deletes hairpin-hosts so the hosts agents remove their lines. Idempotent. Writes go
// through the ConfigMapWriter, so a concurrent edit is re-read, never overwritten.
import { CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { HairpinError, HOSTS_CONFIGMAP_NAME } from '@hairpin/shared';
import { describeApiError, type Logger } from '@hairpin/shared/runtime';
import type { ControllerConfig } from './config.ts';
import { ConfigMapWriter } from './configmap-writer.ts';
import { readLiveHolder, runningControllerMessage } from './lease-holder.ts';
import { corefileEdit, importEdit, type DataEdit } from './plan.ts';

/** Every problem met, one line each (empty: all clean). */
export async function cleanup(
  config: ControllerConfig,
  writer: ConfigMapWriter,
  log: Logger,
): Promise<string[]> {
  const problems: string[] = [];
  const attempt = async (where: string, step: () => Promise<void>) => {
    try {
      await step();
    } catch (err) {
      problems.push(
        `${where}: ${err instanceof HairpinError ? `${err.code}: ${err.message}` : describeApiError(err)}`,
      );
    }
  };
  const options = { target: config.relayFqdn, extraDirectives: config.extraDirectives };
  for (const t of config.corefiles) {
    const removeAll = corefileEdit(t, [], options);
    // A ConfigMap without the key has nothing of ours.
    const edit: DataEdit = (data) => (data?.[t.key] === undefined ? undefined : removeAll(data));
    await attempt(`${t.namespace}/${t.name}`, async () => {
      if ((await writer.apply(t, edit)) === 'updated') {
        log.info({ configMap: `${t.namespace}/${t.name}` }, 'managed rules removed');
      }
    });
  }
  const imp = config.importTarget;
  if (imp !== undefined) {
    await attempt(`${imp.namespace}/${imp.name}`, async () => {
      if ((await writer.apply(imp, importEdit(imp.key, [], options))) === 'updated') {
        log.info({ configMap: `${imp.namespace}/${imp.name}`, key: imp.key }, 'import key removed');
      }
    });
  }
  const published = { namespace: config.namespace, name: HOSTS_CONFIGMAP_NAME };
  await attempt(`${published.namespace}/${published.name}`, async () => {
    if ((await writer.delete(published)) === 'deleted') {
      log.info(
        { configMap: `${published.namespace}/${published.name}` },
        'deleted: hosts agents remove their lines',
      );
    }
  });
  return problems;
}

/**
 * The cleanup command against a cluster: its exit code, each problem one line on stderr.
 * It refuses (exit 2) while a controller holds a fresh Lease, which would put the rules
 * back within milliseconds, unless `force`.
 */
export async function runCleanup(
  config: ControllerConfig,
  deps: {
    readonly kubeConfig: KubeConfig;
    readonly log: Logger;
    readonly stderr: NodeJS.WritableStream;
    readonly force: boolean;
  },
): Promise<number> {
  const { kubeConfig: kc, stderr } = deps;
  if (!deps.force) {
    const lease = `${config.namespace}/${config.leaseName}`;
    try {
      const api = kc.makeApiClient(CoordinationV1Api);
      const holder = await readLiveHolder(api, config.namespace, config.leaseName);
      if (holder !== undefined) {
        stderr.write(`cleanup: ${runningControllerMessage(holder)}\n`);
        return 2;
      }
    } catch (err) {
      stderr.write(
        `cleanup: cannot tell whether the controller is running (lease ${lease}: ${describeApiError(err)}); --force skips this check\n`,
      );
      return 1;
    }
  }
  const log = deps.log.child({ component: 'cleanup' });
  const writer = new ConfigMapWriter({ core: kc.makeApiClient(CoreV1Api), log });
  const problems = await cleanup(config, writer, log);
  for (const p of problems) stderr.write(`cleanup: ${p}\n`);
  return problems.length === 0 ? 0 : 1;
}
