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
import { apiStatusCode, describeApiError } from './api-error.ts';
import { readLiveHolder, runningControllerMessage } from './lease-holder.ts';
import { LeaderElector } from './leader-election.ts';
import { createControllerMetrics, createLeaderElectionMetrics } from './metrics.ts';

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
    metrics: createLeaderElectionMetrics(registry),
    onStartedLeading: () => controller.setLeading(true),
    onStoppedLeading: () => controller.setLeading(false),
  });
  const admin = await startAdminServer({
    host: config.admin.host,
    port: config.admin.port,
    registry,
    notReadyReason: () => elector.notReadyReason() ?? controller.notReadyReason(),
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

/** How often cleanup re-reads and retries a ConfigMap another writer changed under it (409). */
const CONFLICT_ATTEMPTS = 5;

/** Runs a read-modify-replace again from the read while it meets 409 Conflict. */
async function retryOnConflict(edit: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await edit();
    } catch (err) {
      if (apiStatusCode(err) !== 409 || attempt >= CONFLICT_ATTEMPTS) throw err;
    }
  }
}

function describe(err: unknown): string {
  return err instanceof HairpinError ? `${err.code}: ${err.message}` : describeApiError(err);
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
  const missing = (err: unknown) => apiStatusCode(err) === 404;
  for (const t of config.corefiles) {
    const where = `${t.namespace}/${t.name}`;
    try {
      await retryOnConflict(async () => {
        const cm = await core.readNamespacedConfigMap({ name: t.name, namespace: t.namespace });
        const text = cm.data?.[t.key];
        if (text === undefined) return;
        const edited = applyCorefileHosts(text, [], {
          target: config.relayFqdn,
          extraDirectives: config.extraDirectives,
        });
        if (edited === text) return;
        await core.replaceNamespacedConfigMap({
          name: t.name,
          namespace: t.namespace,
          body: { ...cm, data: { ...cm.data, [t.key]: edited } },
        });
        log.info({ configMap: where }, 'managed rules removed');
      });
    } catch (err) {
      if (!missing(err)) problems.push(`${where}: ${describe(err)}`);
    }
  }
  const imp = config.importTarget;
  if (imp !== undefined) {
    try {
      await retryOnConflict(async () => {
        const cm = await core.readNamespacedConfigMap({ name: imp.name, namespace: imp.namespace });
        if (cm.data?.[imp.key] === undefined) return;
        const data = { ...cm.data };
        delete data[imp.key];
        await core.replaceNamespacedConfigMap({
          name: imp.name,
          namespace: imp.namespace,
          body: { ...cm, data },
        });
        log.info({ configMap: `${imp.namespace}/${imp.name}`, key: imp.key }, 'import key removed');
      });
    } catch (err) {
      if (!missing(err)) problems.push(`${imp.namespace}/${imp.name}: ${describe(err)}`);
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
    if (!missing(err))
      problems.push(`${config.namespace}/${HOSTS_CONFIGMAP_NAME}: ${describe(err)}`);
  }
  return problems;
}

async function runCleanup(argv: readonly string[], io: CliIO): Promise<number> {
  // --force has no environment twin: overriding the check must be said on the command line.
  const force = argv.includes('--force');
  const config = loadConfig(
    argv.filter((a) => a !== '--force'),
    io.env,
    { readResolvConf },
  );
  const log = createLogger({
    level: config.logLevel,
    name: 'hairpin-dns-controller',
  });
  const kc = kubeConfig();
  if (!force) {
    // A running controller would put the rules back within milliseconds.
    const lease = `${config.namespace}/${config.leaseName}`;
    try {
      const holder = await readLiveHolder(
        kc.makeApiClient(CoordinationV1Api),
        config.namespace,
        config.leaseName,
      );
      if (holder !== undefined) {
        io.stderr.write(`cleanup: ${runningControllerMessage(holder)}\n`);
        return 2;
      }
    } catch (err) {
      io.stderr.write(
        `cleanup: cannot tell whether the controller is running (lease ${lease}: ${describeApiError(err)}); --force skips this check\n`,
      );
      return 1;
    }
  }
  const problems = await cleanup(config, kc.makeApiClient(CoreV1Api), log);
  for (const p of problems) io.stderr.write(`cleanup: ${p}\n`);
  return problems.length === 0 ? 0 : 1;
}
