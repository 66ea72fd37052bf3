// hairpin-relay: the PROXY-protocol relay (DESIGN.md CLIs), or `hairpin-relay demo`.
import cluster from 'node:cluster';
import { Registry } from 'prom-client';
import { createLogger, runCli } from '@hairpin/shared/runtime';
import { loadConfig } from './config.ts';
import { runDemo } from './demo.ts';
import { startRelay } from './run.ts';
import { runPrimary, runWorker } from './workers.ts';

const argv = process.argv.slice(2);

await runCli(async () => {
  if (argv[0] === 'demo') return runDemo(argv.slice(1));
  const config = loadConfig(argv, process.env);
  const log = createLogger({ level: config.logLevel, name: 'hairpin-relay' });
  if (config.workers > 1) {
    return cluster.isPrimary
      ? runPrimary(config, log)
      : runWorker(config, log.child({ worker: cluster.worker?.id }), new Registry());
  }
  const running = await startRelay(config, { log });
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'signal received');
      void running.shutdown().then(resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
});
