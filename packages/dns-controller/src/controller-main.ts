// The controller process, and the cleanup command (the documented uninstall step).
import { readFileSync } from 'node:fs';
import { CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { applyCorefileHosts, HairpinError, HOSTS_CONFIGMAP_NAME } from '@hairpin/shared';
import {
  createLogger,
  startAdminServer,
  untilSignal,
  type CliIO,
  type Logger,
} from '@hairpin/shared/runtime';
import { loadConfig, type ControllerConfig } from './config.ts';
import { DnsController } from './controller.ts';
import { createEventRecorder } from './events.ts';
import { LeaderElector } from './leader-election.ts';
import { createControllerMetrics } from './metrics.ts';

export function readResolvConf(): string | undefined {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return undefined;
  }
}

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault(); // in-cluster service account, or KUBECONFIG / ~/.kube/config
  return kc;
}

export async function runController(argv: readonly string[], io: CliIO): Promise<number> {
  if (argv[0] === 'cleanup') return runCleanup(argv.slice(1), io);
  const config = loadConfig(argv, io.env, { readResolvConf });
  const log = createLogger({
    level: config.logLevel,
    name: 'hairpin-dns-controller',
  });
  const kc = kubeConfig();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const controller = new DnsController({
    kubeConfig: kc,
    config,
    log,
    metrics: createControllerMetrics(registry),
    events: createEventRecorder({
      api: kc.makeApiClient(CoreV1Api),
      component: 'hairpin-dns-controller',
      instance: config.podName,
      log,
    }),
  });
  const elector = new LeaderElector({
    api: kc.makeApiClient(CoordinationV1Api),
    namespace: config.namespace,
    name: config.leaseName,
    identity: config.podName,
    log,
    onStartedLeading: () => controller.setLeading(true),
    onStoppedLeading: () => controller.setLeading(false),
  });
  const admin = await startAdminServer({
    host: config.admin.host,
    port: config.admin.port,
    registry,
    notReadyReason: () => controller.notReadyReason(),
    jsonRoutes: { '/status': () => controller.status() },
    log,
  });
  log.info(
    {
      relay: config.relayFqdn,
      corefiles: config.corefiles.map((t) => `${t.namespace}/${t.name}:${t.key}`),
      importTarget:
        config.importTarget &&
        `${config.importTarget.namespace}/${config.importTarget.name}:${config.importTarget.key}`,
    },
    'dns-controller starting',
  );
  controller.start();
  elector.start();
  log.info({ signal: await untilSignal() }, 'stopping');
  controller.setLeading(false);
  await elector.stop();
  await controller.stop();
  await admin.close();
  return 0;
}

/**
 * Removes every managed rule (marker, content, legacy) from every configured Corefile,
 * the import key, and deletes hairpin-hosts so the agents remove their lines. Idempotent.
 */
export async function cleanup(
  config: ControllerConfig,
  core: CoreV1Api,
  log: Logger,
): Promise<string[]> {
  const problems: string[] = [];
  const missing = (err: unknown) => (err as { code?: number }).code === 404;
  for (const t of config.corefiles) {
    const where = `${t.namespace}/${t.name}`;
    try {
      const cm = await core.readNamespacedConfigMap({ name: t.name, namespace: t.namespace });
      const text = cm.data?.[t.key];
      if (text === undefined) continue;
      const edited = applyCorefileHosts(text, [], {
        target: config.relayFqdn,
        extraDirectives: config.extraDirectives,
      });
      if (edited === text) continue;
      await core.replaceNamespacedConfigMap({
        name: t.name,
        namespace: t.namespace,
        body: { ...cm, data: { ...cm.data, [t.key]: edited } },
      });
      log.info({ configMap: where }, 'managed rules removed');
    } catch (err) {
      if (missing(err)) continue;
      problems.push(
        `${where}: ${err instanceof HairpinError ? `${err.code}: ${err.message}` : String(err)}`,
      );
    }
  }
  const imp = config.importTarget;
  if (imp !== undefined) {
    try {
      const cm = await core.readNamespacedConfigMap({ name: imp.name, namespace: imp.namespace });
      if (cm.data?.[imp.key] !== undefined) {
        const data = { ...cm.data };
        delete data[imp.key];
        await core.replaceNamespacedConfigMap({
          name: imp.name,
          namespace: imp.namespace,
          body: { ...cm, data },
        });
        log.info({ configMap: `${imp.namespace}/${imp.name}`, key: imp.key }, 'import key removed');
      }
    } catch (err) {
      if (!missing(err)) problems.push(`${imp.namespace}/${imp.name}: ${String(err)}`);
    }
  }
  try {
    await core.deleteNamespacedConfigMap({
      name: HOSTS_CONFIGMAP_NAME,
      namespace: config.namespace,
    });
    log.info(
      { configMap: `${config.namespace}/${HOSTS_CONFIGMAP_NAME}` },
      'deleted: hosts agents remove their lines',
    );
  } catch (err) {
    if (!missing(err)) problems.push(`${config.namespace}/${HOSTS_CONFIGMAP_NAME}: ${String(err)}`);
  }
  return problems;
}

async function runCleanup(argv: readonly string[], io: CliIO): Promise<number> {
  const config = loadConfig(argv, io.env, { readResolvConf });
  const log = createLogger({
    level: config.logLevel,
    name: 'hairpin-dns-controller',
  });
  const problems = await cleanup(config, kubeConfig().makeApiClient(CoreV1Api), log);
  for (const p of problems) io.stderr.write(`cleanup: ${p}\n`);
  return problems.length === 0 ? 0 : 1;
}
