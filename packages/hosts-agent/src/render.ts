// `hairpin-hosts-agent render` (a stable CLI: docs/hostnames-and-hosts-file.md): the agent's hosts-file edit as
// a pure command. Hosts file in (file or stdin), edited file out; no hosts means every
// managed line removed. Bad input: exit 2, a message on stderr, nothing on stdout.
import { isIP } from 'node:net';
import { applyHostsFile, CLUSTER_DOMAIN_FLAG, flagValue, type FlagSpec } from '@hairpin/shared';
import {
  hostsFromFlags,
  readInput,
  RenderFailure,
  renderFlags,
  runRenderCommand,
  type CliIO,
} from '@hairpin/shared/runtime';

const FLAGS: readonly FlagSpec[] = [
  { name: 'hosts-file', env: null, arg: 'FILE|-', help: 'the hosts file to edit; - reads stdin' },
  { name: 'ip', env: null, arg: 'IP', help: "the relay Service's ClusterIP" },
  { name: 'host', env: null, repeatable: true, arg: 'HOST', help: 'a hostname to point at --ip' },
  CLUSTER_DOMAIN_FLAG,
];

/** The render flags, for --help (main.ts, commands.ts). */
export { FLAGS as RENDER_FLAGS };

/** What follows the command on its usage line, here and in --help (commands.ts). */
export const RENDER_ARGS = '--hosts-file FILE|- --ip IP [--host HOST]...';
const RENDER_USAGE = `usage: hairpin-hosts-agent render ${RENDER_ARGS}`;

export async function runRender(argv: readonly string[], io: CliIO): Promise<number> {
  return runRenderCommand('hairpin-hosts-agent render', io, async () => {
    const { flags, problems, clusterDomain } = renderFlags(argv, io, FLAGS);
    const file = flagValue(flags, 'hosts-file');
    const ip = flagValue(flags, 'ip');
    if (file === undefined) problems.push('--hosts-file FILE|- is required');
    if (ip === undefined) problems.push('--ip IP is required');
    else if (isIP(ip) === 0) problems.push(`--ip: ${JSON.stringify(ip)} is not an IP address`);
    if (problems.length > 0 || file === undefined || ip === undefined) {
      throw new RenderFailure(`${problems.join('; ')}\n${RENDER_USAGE}`);
    }
    const hosts = hostsFromFlags(flags.values.get('host') ?? [], {
      clusterDomain,
      allowedSuffixes: [],
    });
    return applyHostsFile(await readInput(file, io.stdin), ip, hosts);
  });
}
