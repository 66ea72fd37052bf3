// The common shape of a component's main(): run, and turn a ConfigError into exit 2
// with one line per problem (invalid configuration: exit 2), and a failure
// to start into exit 1 with one line (never a stack trace).
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

/** Resolves with the first SIGTERM or SIGINT: the start of every component's shutdown. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve(signal);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
