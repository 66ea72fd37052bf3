// hairpin-dns-controller, the process's only edge (argv, environment, files, streams):
// `render` (pure Corefile edit), `status` (which hosts are handled), `cleanup` (the
// uninstall step), or the controller.
import { loadKubeConfig } from '@hairpin/shared/kube';
import { createLogger, processIO, runCli, untilSignal } from '@hairpin/shared/runtime';
import { loadConfig } from './config.ts';
import { runRender } from './render.ts';

const NAME = 'hairpin-dns-controller';
const argv = process.argv.slice(2);
const io = processIO(process.env);

const kubeConfig = () => loadKubeConfig(io.env);

await runCli(async () => {
  switch (argv[0]) {
    case 'render':
      return runRender(argv.slice(1), io);
    case 'status': {
      const { runStatus } = await import('./status-command.ts');
      return runStatus(argv.slice(1), io, { kubeConfig });
    }
    case 'cleanup': {
      const { runCleanup } = await import('./cleanup.ts');
      // --force has no environment twin: overriding the check must be said on the command line.
      const args = argv.slice(1);
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
