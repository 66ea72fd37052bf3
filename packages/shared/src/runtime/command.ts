// What every binary and subcommand answers before it reads its configuration (DESIGN.md,
// CLIs): --help (generated from its flag specs), --version, and a command line it cannot
// read (an unknown flag, a flag without its value): one line pointing at --help, exit 2,
// and nothing else (no second error about what the unread flag would have set).
import { parseFlags } from '../flags.ts';
import { formatHelp, type CommandHelp } from '../help.ts';
import { BUILD_INFO, versionLine, type BuildInfo } from './build-info.ts';

export interface CommandOptions {
  /** Single-dash flags the command reads itself (status: `-o`). */
  readonly shortFlags?: readonly string[];
  readonly buildInfo?: BuildInfo;
}

/**
 * The exit code when argv asks for help or the version or cannot be read, after printing
 * the answer; undefined when the command should go on and parse its configuration.
 */
export function answerCommandLine(
  argv: readonly string[],
  command: CommandHelp,
  io: { readonly stdout: NodeJS.WritableStream; readonly stderr: NodeJS.WritableStream },
  options: CommandOptions = {},
): number | undefined {
  const end = argv.indexOf('--');
  const args = end === -1 ? argv : argv.slice(0, end);
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(formatHelp(command));
    return 0;
  }
  if (args.includes('--version')) {
    const binary = command.name.split(' ')[0]!;
    io.stdout.write(`${versionLine(binary, options.buildInfo ?? BUILD_INFO)}\n`);
    return 0;
  }
  const parsed = parseFlags(
    argv,
    {},
    command.sections.flatMap((s) => s.flags),
  );
  const short = parsed.positionals.find(
    (p) => /^-[^-]/.test(p) && !(options.shortFlags ?? []).includes(p),
  );
  // No command takes operands (subcommands are chosen before): a typo of one is one line too.
  // A value after a short flag the command reads itself (`status -o json`) is not one.
  const operand = parsed.positionals.find(
    (p, i) =>
      !p.startsWith('-') &&
      args.includes(p) &&
      !(options.shortFlags ?? []).includes(parsed.positionals[i - 1] ?? ''),
  );
  const error =
    parsed.usageErrors[0] ??
    (short === undefined ? undefined : `unknown flag ${short}`) ??
    (operand === undefined ? undefined : `unexpected argument ${operand}`);
  if (error === undefined) return undefined;
  io.stderr.write(`error: ${error}; see ${command.name} --help\n`);
  return 2;
}
