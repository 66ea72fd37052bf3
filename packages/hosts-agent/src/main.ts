// hairpin-hosts-agent, the process's only edge (argv, environment, files, streams):
// `render` (pure hosts-file edit), or the node agent itself.
import { loadKubeConfig } from '@hairpin/shared/kube';
import { createLogger, processIO, runCli, untilSignal } from '@hairpin/shared/runtime';
import { loadConfig } from './config.ts';
import { runRender } from './render.ts';

const argv = process.argv.slice(2);
const io = processIO(process.env);

await runCli(async () => {
  if (argv[0] === 'render') return runRender(argv.slice(1), io);
  const { runHostsAgent } = await import('./run.ts');
  const config = loadConfig(argv, io.env, io);
  const log = createLogger({ level: config.logLevel, name: 'hairpin-hosts-agent' });
  const kubeConfig = loadKubeConfig(io.env);
  const running = await runHostsAgent(config, { kubeConfig, log });
  log.info({ signal: await untilSignal() }, 'stopping; managed lines stay in place');
  await running.stop();
  return 0;
});
