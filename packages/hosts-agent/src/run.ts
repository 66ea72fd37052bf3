// The agent process, wired: metrics, the agent, the admin server. main.ts calls
// runHostsAgent with the parsed config; the tests call it too, against the fake API server.
import type { KubeConfig } from '@kubernetes/client-node';
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  registerBuildInfo,
  startAdminServer,
  type AdminServer,
  type Logger,
} from '@hairpin/shared/runtime';
import { HostsAgent } from './agent.ts';
import type { AgentConfig } from './config.ts';
import { createAgentMetrics } from './metrics.ts';

export interface RunningAgent {
  readonly agent: HostsAgent;
  readonly registry: Registry;
  readonly admin: AdminServer;
  /** Stops watching and the admin server; the managed lines stay in place. */
  stop(): Promise<void>;
}

export async function runHostsAgent(
  config: AgentConfig,
  deps: {
    readonly kubeConfig: KubeConfig;
    readonly log: Logger;
    readonly registry?: Registry;
    readonly debounceMs?: number;
  },
): Promise<RunningAgent> {
  const log = deps.log.child({ node: config.nodeName });
  const registry = deps.registry ?? new Registry();
  collectDefaultMetrics({ register: registry });
  registerBuildInfo(registry);
  const agent = new HostsAgent({
    kubeConfig: deps.kubeConfig,
    namespace: config.namespace,
    hostsFile: config.hostsFile,
    policy: { clusterDomain: config.clusterDomain, allowedSuffixes: [] },
    resyncMs: config.resyncMs,
    log: log.child({ component: 'hosts-agent' }),
    metrics: createAgentMetrics(registry),
    nodeHosts: config.nodeHosts,
    nodeHostSuffixes: config.nodeHostSuffixes,
    maxLines: config.maxLines,
    ...(deps.debounceMs === undefined ? {} : { debounceMs: deps.debounceMs }),
  });
  const admin = await startAdminServer({
    host: config.admin.host,
    port: config.admin.port,
    registry,
    notReadyReason: () => agent.notReadyReason(),
    log: log.child({ component: 'admin' }),
  });
  log.info({ namespace: config.namespace, hostsFile: config.hostsFile }, 'hosts agent starting');
  agent.start();
  return {
    agent,
    registry,
    admin,
    async stop() {
      await agent.stop();
      await admin.stop();
    },
  };
}
