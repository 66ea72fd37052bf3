// One pino root logger per process, JSON to stdout. Components take
// `log.child({ component })`; tests pass a logger that writes to a sink.
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { apiStatus, describeApiError } from './api-status.ts';

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
    serializers: { err: serializeError },
  };
  return destination === undefined ? pino(opts) : pino(opts, destination);
}

/** A logger that drops everything, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * `err` in a log line: an API error as its status, reason and message (client-node's
 * ApiException carries the whole response, body, headers and stack: 3 KB a line, and
 * secrets-adjacent), bounded; anything else as pino's standard serializer gives it.
 */
function serializeError(err: unknown): unknown {
  const status = apiStatus(err);
  if (status === undefined) return pino.stdSerializers.err(err as Error);
  return {
    type: (err as Error).name ?? 'ApiException',
    status,
    message: describeApiError(err).replace(/\s+/g, ' ').slice(0, 300),
  };
}
