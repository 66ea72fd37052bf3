// hairpin-dns-controller: `render` (pure Corefile edit), `cleanup` (uninstall step), or
// the controller itself (no subcommand).
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
    default: {
      const { runController } = await import('./controller-main.ts');
      return runController(process.argv.slice(2), io);
    }
  }
});
