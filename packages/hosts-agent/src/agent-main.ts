// The agent process: config, logger, registry, admin server, signals.
import { KubeConfig } from '@kubernetes/client-node';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createLogger, startAdminServer, untilSignal, type CliIO } from '@hairpin/shared/runtime';
import { HostsAgent } from './agent.ts';
import { loadConfig } from './config.ts';
import { createAgentMetrics } from './metrics.ts';

export async function runAgent(argv: readonly string[], io: CliIO): Promise<number> {
  const config = loadConfig(argv, io.env);
  const log = createLogger({
    level: config.logLevel,
    name: 'hairpin-hosts-agent',
  }).child({
    node: config.nodeName,
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const agent = new HostsAgent({
    kubeConfig,
    namespace: config.namespace,
    hostsFile: config.hostsFile,
    policy: { clusterDomain: config.clusterDomain, allowedSuffixes: [] },
    resyncMs: config.resyncMs,
    log,
    metrics: createAgentMetrics(registry),
  });
  const admin = await startAdminServer({
    host: config.admin.host,
    port: config.admin.port,
    registry,
    notReadyReason: () => agent.notReadyReason(),
    log,
  });
  log.info({ namespace: config.namespace, hostsFile: config.hostsFile }, 'hosts agent starting');
  agent.start();
  log.info({ signal: await untilSignal() }, 'stopping; managed lines stay in place');
  await agent.stop();
  await admin.close();
  return 0;
}
