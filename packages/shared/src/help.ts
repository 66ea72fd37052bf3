// --help text, generated from the same flag specs that loadConfig parses (FlagSpec in
// flags.ts), so a flag added to a spec list shows up in --help without more work, and
// the docs' tables (checked against the specs by test/docs) say the same. Pure.
import { envNameOf, type FlagSpec } from './flags.ts';

/** A group of flags, titled as the docs title its table. */
export interface FlagSection {
  readonly title: string;
  readonly flags: readonly FlagSpec[];
}

/** What a binary or subcommand's --help says. */
export interface CommandHelp {
  /** The command as typed: `hairpin-relay`, `hairpin-dns-controller render`. */
  readonly name: string;
  /** What follows the name on the usage line, e.g. `[flags]`. */
  readonly usage: string;
  /** One or two sentences: what the command does. */
  readonly about: string;
  /** Subcommands, for a binary that has them. */
  readonly commands?: readonly { readonly name: string; readonly about: string }[];
  readonly sections: readonly FlagSection[];
  /** Lines after the flags (examples, where the docs are). */
  readonly notes?: readonly string[];
}

/** `--name ARG`, `--name ARG...` (repeatable), `--name` (a switch). */
export function flagSyntax(spec: FlagSpec): string {
  if (spec.boolean === true) return `--${spec.name}`;
  return `--${spec.name} ${spec.arg ?? 'VALUE'}${spec.repeatable === true ? '...' : ''}`;
}

/** The text after the syntax: what it does, its default, its environment twin(s). */
export function flagDescription(spec: FlagSpec): string {
  const parts: string[] = [];
  const help =
    spec.help ??
    (spec.aliasOf === undefined
      ? undefined
      : `older spelling of --${spec.aliasOf.name}; a bare number counts in ${spec.aliasOf.unitMs === 1 ? 'milliseconds' : spec.aliasOf.unitMs === 1000 ? 'seconds' : `units of ${spec.aliasOf.unitMs}ms`}`);
  if (help !== undefined) parts.push(help);
  if (spec.default !== undefined) parts.push(`(default ${spec.default})`);
  else if (spec.defaultNote !== undefined) parts.push(`(default: ${spec.defaultNote})`);
  const env = [envNameOf(spec), ...(spec.envAliases ?? [])].filter((e) => e !== null);
  if (env.length > 0) {
    const list = spec.repeatable === true ? ', comma-separated' : '';
    parts.push(`[${env.map((e) => `$${e}`).join(', ')}${list}]`);
  }
  return parts.join(' ');
}

/** The widest flag column; wider ones run into their description after two spaces. */
const MAX_SYNTAX_WIDTH = 34;

export function formatHelp(command: CommandHelp): string {
  const lines = [`usage: ${command.name} ${command.usage}`.trimEnd(), '', command.about];
  if (command.commands !== undefined && command.commands.length > 0) {
    lines.push('', 'commands:');
    const width = Math.max(...command.commands.map((c) => c.name.length));
    for (const c of command.commands) lines.push(`  ${c.name.padEnd(width)}  ${c.about}`);
  }
  const all = command.sections.flatMap((s) => s.flags);
  if (all.some((f) => envNameOf(f) !== null)) {
    lines.push('', 'A flag can also be set by the environment variable in brackets; flags win.');
  }
  if (all.some((f) => f.arg === 'DURATION')) lines.push('Durations: 250ms, 5s, 2m, 1h.');
  const width = Math.min(MAX_SYNTAX_WIDTH, Math.max(0, ...all.map((f) => flagSyntax(f).length)));
  for (const section of command.sections) {
    if (section.flags.length === 0) continue;
    lines.push('', `${section.title}:`);
    for (const spec of section.flags) {
      lines.push(`  ${flagSyntax(spec).padEnd(width)}  ${flagDescription(spec)}`.trimEnd());
    }
  }
  lines.push('', '  -h, --help     this text', '  --version      version and git commit');
  if (command.notes !== undefined && command.notes.length > 0) lines.push('', ...command.notes);
  return `${lines.join('\n')}\n`;
}
