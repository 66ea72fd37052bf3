// One pino root logger per process, JSON to stdout. Components take
// `log.child({ component })`; tests pass a logger that writes to a sink.
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

export function createLogger(
  options: { level?: LevelWithSilent; name?: string } = {},
  destination?: DestinationStream,
): Logger {
  const opts = {
    level: options.level ?? 'info',
    base: options.name === undefined ? {} : { name: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination === undefined ? pino(opts) : pino(opts, destination);
}

/** A logger that drops everything, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
