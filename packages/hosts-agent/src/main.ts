// hairpin-hosts-agent, the process's only edge (argv, environment, files, streams):
// `render` (pure hosts-file edit), or the node agent itself.
import { loadKubeConfig } from '@hairpin/shared/kube';
import {
  answerCommandLine,
  createLogger,
  processIO,
  runCli,
  untilSignal,
} from '@hairpin/shared/runtime';
import { AGENT_COMMAND, RENDER_COMMAND } from './commands.ts';
import { loadConfig } from './config.ts';
import { runRender } from './render.ts';

const argv = process.argv.slice(2);
const io = processIO(process.env);

await runCli(async () => {
  if (argv[0] === 'render') {
    const args = argv.slice(1);
    return answerCommandLine(args, RENDER_COMMAND, io) ?? runRender(args, io);
  }
  const answered = answerCommandLine(argv, AGENT_COMMAND, io);
  if (answered !== undefined) return answered;
  const { runHostsAgent } = await import('./run.ts');
  const config = loadConfig(argv, io.env, io);
  const log = createLogger({ level: config.logLevel, name: 'hairpin-hosts-agent' });
  const kubeConfig = loadKubeConfig(io.env);
  const running = await runHostsAgent(config, { kubeConfig, log });
  log.info({ signal: await untilSignal() }, 'stopping; managed lines stay in place');
  await running.stop();
  return 0;
});
