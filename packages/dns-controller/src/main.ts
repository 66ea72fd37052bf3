// hairpin-dns-controller, the process's only edge (argv, environment, files, streams):
// `render` (pure Corefile edit), `status` (which hosts are handled), `cleanup` (the
// uninstall step), or the controller.
import { loadKubeConfig } from '@hairpin/shared/kube';
import {
  answerCommandLine,
  createLogger,
  processIO,
  runCli,
  untilSignal,
} from '@hairpin/shared/runtime';
import { CLEANUP_COMMAND, CONTROLLER_COMMAND, RENDER_COMMAND, STATUS_COMMAND } from './commands.ts';
import { loadConfig } from './config.ts';
import { runRender } from './render.ts';

const NAME = 'hairpin-dns-controller';
const argv = process.argv.slice(2);
const io = processIO(process.env);

const kubeConfig = () => loadKubeConfig(io.env);

await runCli(async () => {
  switch (argv[0]) {
    case 'render': {
      const args = argv.slice(1);
      return answerCommandLine(args, RENDER_COMMAND, io) ?? runRender(args, io);
    }
    case 'status': {
      const args = argv.slice(1);
      const answered = answerCommandLine(args, STATUS_COMMAND, io, { shortFlags: ['-o'] });
      if (answered !== undefined) return answered;
      const { runStatus } = await import('./status-command.ts');
      return runStatus(args, io, { kubeConfig });
    }
    case 'cleanup': {
      // --force has no environment twin: overriding the check must be said on the command line.
      const args = argv.slice(1);
      const answered = answerCommandLine(args, CLEANUP_COMMAND, io);
      if (answered !== undefined) return answered;
      const { runCleanup } = await import('./cleanup.ts');
      const force = args.includes('--force');
      const config = loadConfig(
        args.filter((a) => a !== '--force'),
        io.env,
        io,
      );
      const log = createLogger({ level: config.logLevel, name: NAME });
      return runCleanup(config, { kubeConfig: kubeConfig(), log, stderr: io.stderr, force });
    }
    default: {
      const answered = answerCommandLine(argv, CONTROLLER_COMMAND, io);
      if (answered !== undefined) return answered;
      const { runDnsController } = await import('./run.ts');
      const config = loadConfig(argv, io.env, io);
      const log = createLogger({ level: config.logLevel, name: NAME });
      const running = await runDnsController(config, { kubeConfig: kubeConfig(), log });
      log.info({ signal: await untilSignal() }, 'stopping');
      await running.stop();
      return 0;
    }
  }
});
