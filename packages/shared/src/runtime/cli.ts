// The common shape of a component's main(): run, and turn a ConfigError into exit 2
// with one line per problem (invalid configuration: exit 2), and a failure
// to start into exit 1 with one line (never a stack trace).
import { constants } from 'node:os';
import { ConfigError, StartupError } from '../errors.ts';

/** An error from the system (a failed bind, open, connect): its message says it all. */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

export async function runCli(main: () => Promise<number | void>): Promise<void> {
  try {
    const code = await main();
    if (typeof code === 'number') process.exitCode = code;
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) process.stderr.write(`error: ${problem}\n`);
      process.exitCode = 2;
      return;
    }
    // Anything else is a bug: its stack trace is what a report needs.
    const text =
      err instanceof StartupError || isSystemError(err)
        ? err.message
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err);
    process.stderr.write(`fatal: ${text}\n`);
    process.exitCode = 1;
  }
}

/**
 * Resolves with the first SIGTERM or SIGINT: the start of every component's shutdown. A
 * second one (Ctrl-C twice) exits at once with 128 + its number, without waiting for the
 * shutdown: explicitly, because a process that is PID 1 in a container ignores signals it
 * has no handler for. `then: 'ignore'` is for a relay worker: its primary passes SIGTERM on
 * after a terminal's SIGINT reached both, and decides alone when to stop waiting.
 */
export function untilSignal(then: 'exit' | 'ignore' = 'exit'): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const again = (signal: NodeJS.Signals): void => {
      if (then === 'exit') process.exit(128 + constants.signals[signal]);
    };
    const first = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', first);
      process.off('SIGINT', first);
      process.on('SIGTERM', again);
      process.on('SIGINT', again);
      resolve(signal);
    };
    process.on('SIGTERM', first);
    process.on('SIGINT', first);
  });
}
