// `hairpin-hosts-agent render` (DESIGN.md CLIs, contract): the agent's hosts-file edit as
// a pure command. Hosts file in (file or stdin), edited file out; no hosts means every
// managed line removed. Bad input: exit 2, a message on stderr, nothing on stdout.
import { isIP } from 'node:net';
import {
  applyHostsFile,
  checkHostname,
  flagValue,
  HairpinError,
  parseFlags,
  type FlagSpec,
} from '@hairpin/shared';
import { readInput, type CliIO } from '@hairpin/shared/runtime';

const FLAGS: readonly FlagSpec[] = [
  { name: 'hosts-file', env: null },
  { name: 'ip', env: null },
  { name: 'host', env: null, repeatable: true },
  { name: 'cluster-domain' },
];

export const RENDER_USAGE =
  'usage: hairpin-hosts-agent render --hosts-file FILE|- --ip IP [--host H]...';

export async function runRender(argv: readonly string[], io: CliIO): Promise<number> {
  const fail = (message: string): number => {
    io.stderr.write(`hairpin-hosts-agent render: ${message}\n`);
    return 2;
  };
  const flags = parseFlags(argv, io.env, FLAGS);
  const problems = [...flags.problems];
  if (flags.positionals.length > 0) problems.push(`unexpected argument ${flags.positionals[0]}`);
  const file = flagValue(flags, 'hosts-file');
  const ip = flagValue(flags, 'ip');
  if (file === undefined) problems.push('--hosts-file FILE|- is required');
  if (ip === undefined) problems.push('--ip IP is required');
  else if (isIP(ip) === 0) problems.push(`--ip: ${JSON.stringify(ip)} is not an IP address`);
  if (problems.length > 0 || file === undefined || ip === undefined) {
    return fail(`${problems.join('; ')}\n${RENDER_USAGE}`);
  }
  const policy = {
    clusterDomain: (flagValue(flags, 'cluster-domain') ?? 'cluster.local').replace(/\.$/, ''),
    allowedSuffixes: [],
  };
  const hosts: string[] = [];
  for (const raw of flags.values.get('host') ?? []) {
    const check = checkHostname(raw, policy);
    if (!check.ok) return fail(`--host: ${check.message}`);
    hosts.push(check.host);
  }
  try {
    io.stdout.write(applyHostsFile(await readInput(file, io.stdin), ip, hosts));
    return 0;
  } catch (err) {
    if (err instanceof HairpinError) return fail(`${err.code}: ${err.message}`);
    if (err instanceof Error && 'code' in err) return fail(err.message);
    throw err;
  }
}
