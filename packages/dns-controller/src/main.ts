// hairpin-dns-controller: `render` (pure Corefile edit), `status` (which hosts are
// handled), `cleanup` (uninstall step), or the controller itself (no subcommand).
import { runCli } from '@hairpin/shared/runtime';
import { runRender } from './render.ts';

const [command, ...rest] = process.argv.slice(2);
const io = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
};

await runCli(async () => {
  switch (command) {
    case 'render':
      return runRender(rest, io);
    case 'status': {
      const { runStatus } = await import('./status-command.ts');
      const { readResolvConf } = await import('./controller-main.ts');
      return runStatus(rest, io, { readResolvConf });
    }
    default: {
      const { runController } = await import('./controller-main.ts');
      return runController(process.argv.slice(2), io);
    }
  }
});
