// What the two `render` commands share: one shape of failure (exit 2, a message on
// stderr, nothing on stdout), --host values through the hostname policy, and input
// errors turned into messages.
import { ErrorCodes, HairpinError, type ErrorCode } from '../errors.ts';
import { bytesFromText } from '../file-bytes.ts';
import { clusterDomainFlag, parseFlags, type FlagSpec, type ParsedFlags } from '../flags.ts';
import { checkHostname, type HostnamePolicy } from '../hostname.ts';
import type { CliIO } from './input.ts';

/** A render command refused its arguments: printed as its message alone (it has the usage). */
export class RenderFailure extends HairpinError {
  constructor(message: string, code: ErrorCode = ErrorCodes.USAGE) {
    super(code, message);
    this.name = 'RenderFailure';
  }
}

/**
 * A render command's flags: parsed, positionals refused, and the cluster domain by the one
 * rule every component follows. `problems` collects what is wrong, for the command to add
 * its own and fail with all of them at once.
 */
export function renderFlags(
  argv: readonly string[],
  io: CliIO,
  specs: readonly FlagSpec[],
): { flags: ParsedFlags; problems: string[]; clusterDomain: string } {
  const flags = parseFlags(argv, io.env, specs);
  const problems = [...flags.problems];
  if (flags.positionals.length > 0) problems.push(`unexpected argument ${flags.positionals[0]}`);
  const clusterDomain = clusterDomainFlag(flags, io.readResolvConf?.(), problems);
  return { flags, problems, clusterDomain };
}

/** Runs a render command body; a RenderFailure, HairpinError or I/O error is exit 2. */
export async function runRenderCommand(
  command: string,
  io: CliIO,
  body: () => Promise<string>,
): Promise<number> {
  try {
    const out = await body();
    io.stdout.write(bytesFromText(out));
    return 0;
  } catch (err) {
    let message: string;
    if (err instanceof RenderFailure) message = err.message;
    else if (err instanceof HairpinError) message = `${err.code}: ${err.message}`;
    else if (err instanceof Error && 'code' in err)
      message = err.message; // ENOENT and the like
    else throw err;
    io.stderr.write(`${command}: ${message}\n`);
    return 2;
  }
}

/** Every --host through the policy; the first refusal fails the command. */
export function hostsFromFlags(raw: readonly string[], policy: HostnamePolicy): string[] {
  return raw.map((value) => {
    const check = checkHostname(value, policy);
    if (!check.ok) throw new RenderFailure(`--host: ${check.message}`, ErrorCodes.INVALID_HOST);
    return check.host;
  });
}
