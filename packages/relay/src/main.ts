// hairpin-relay, the process's only edge (argv, environment, streams, signals): the
// PROXY-protocol relay (docs/relay.md), or `hairpin-relay demo`.
import cluster from 'node:cluster';
import { Registry } from 'prom-client';
import { answerCommandLine, createLogger, runCli, untilSignal } from '@hairpin/shared/runtime';
import { DEMO_COMMAND, RELAY_COMMAND } from './commands.ts';
import { loadConfig } from './config.ts';
import { runDemo } from './demo.ts';
import { runRelay } from './run.ts';
import { runPrimary, runWorker } from './workers.ts';

const argv = process.argv.slice(2);

await runCli(async () => {
  if (argv[0] === 'demo') {
    const args = argv.slice(1);
    return answerCommandLine(args, DEMO_COMMAND, process) ?? runDemo(args, process.stdout);
  }
  const answered = answerCommandLine(argv, RELAY_COMMAND, process);
  if (answered !== undefined) return answered;
  const config = loadConfig(argv, process.env);
  const log = createLogger({ level: config.logLevel, name: 'hairpin-relay' });
  if (config.workers > 1) {
    return cluster.isPrimary
      ? runPrimary(config, log)
      : runWorker(config, log.child({ worker: cluster.worker?.id }), new Registry());
  }
  const running = await runRelay(config, { log });
  log.info({ signal: await untilSignal() }, 'signal received');
  await running.stop();
  return 0;
});
