// The controller process, wired: metrics, Events, the controller, leader election and the
// admin server. main.ts calls runDnsController with the parsed config; the tests' harness
// calls it too, against the fake API server.
import { CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  registerBuildInfo,
  startAdminServer,
  type AdminServer,
  type Logger,
} from '@hairpin/shared/runtime';
import type { ControllerConfig } from './config.ts';
import { LEASE_DURATION_MS, LEASE_RENEW_MS } from './constants.ts';
import { DnsController } from './controller.ts';
import { createEventRecorder } from './events.ts';
import { LeaderElector } from './leader-election.ts';
import { createControllerMetrics, createLeaderElectionMetrics } from './metrics.ts';

export interface RunningController {
  readonly controller: DnsController;
  readonly registry: Registry;
  readonly admin: AdminServer;
  /** Steps down, stops the watches and the admin server; resolves when all is stopped. */
  stop(): Promise<void>;
}

export async function runDnsController(
  config: ControllerConfig,
  deps: {
    readonly kubeConfig: KubeConfig;
    readonly log: Logger;
    readonly registry?: Registry;
    /** false: no Lease; the caller decides leadership with controller.setLeading (tests). */
    readonly leaderElection?: boolean;
    readonly confirmEmptyMs?: number;
  },
): Promise<RunningController> {
  const { kubeConfig: kc, log } = deps;
  const registry = deps.registry ?? new Registry();
  collectDefaultMetrics({ register: registry });
  registerBuildInfo(registry);
  const controller = new DnsController({
    kubeConfig: kc,
    config,
    log: log.child({ component: 'controller' }),
    metrics: createControllerMetrics(registry),
    events: createEventRecorder({
      api: kc.makeApiClient(CoreV1Api),
      component: 'hairpin-dns-controller',
      instance: config.podName,
      log: log.child({ component: 'events' }),
    }),
    ...(deps.confirmEmptyMs === undefined ? {} : { confirmEmptyMs: deps.confirmEmptyMs }),
  });
  const elector =
    deps.leaderElection === false
      ? undefined
      : new LeaderElector({
          api: kc.makeApiClient(CoordinationV1Api),
          namespace: config.namespace,
          name: config.leaseName,
          identity: config.podName,
          leaseDurationMs: LEASE_DURATION_MS,
          renewMs: LEASE_RENEW_MS,
          log: log.child({ component: 'leader-election' }),
          metrics: createLeaderElectionMetrics(registry),
          onStartedLeading: () => controller.setLeading(true),
          onStoppedLeading: () => controller.setLeading(false),
        });
  const admin = await startAdminServer({
    host: config.admin.host,
    port: config.admin.port,
    registry,
    notReadyReason: () => elector?.notReadyReason() ?? controller.notReadyReason(),
    jsonRoutes: { '/status': () => controller.status() },
    log: log.child({ component: 'admin' }),
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
  elector?.start();
  return {
    controller,
    registry,
    admin,
    async stop() {
      controller.setLeading(false);
      await elector?.stop();
      await controller.stop();
      await admin.stop();
    },
  };
}
