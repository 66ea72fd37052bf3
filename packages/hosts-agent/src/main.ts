// hairpin-hosts-agent: `render` (pure hosts-file edit), or the node agent itself.
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
  if (command === 'render') return runRender(rest, io);
  const { runAgent } = await import('./agent-main.ts');
  return runAgent(process.argv.slice(2), io);
});
