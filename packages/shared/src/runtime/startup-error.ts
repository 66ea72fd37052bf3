// Startup failures, worded alike by every component (docs/install.md: an address in use or not
// available exits 1 with one line, never a stack trace). A listener's 'error' before it
// is listening goes through listenFailure; runCli prints the StartupError's message.
import { StartupError } from '../errors.ts';

const REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this host',
  EACCES: 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)',
  EAFNOSUPPORT: 'address family not supported on this host',
  EINVAL: 'invalid address',
};

/**
 * The one-line StartupError for a bind that failed, e.g. `cannot listen on admin address
 * 0.0.0.0:9090: address already in use (EADDRINUSE)`. `what` names the setting
 * ("admin address", "listen address"); `address` is HOST:PORT as configured.
 */
export function listenFailure(err: unknown, what: string, address: string): StartupError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const known = code === undefined ? undefined : REASONS[code];
  const reason =
    known === undefined ? (err instanceof Error ? err.message : String(err)) : `${known} (${code})`;
  return new StartupError(`cannot listen on ${what} ${address}: ${reason}`, { cause: err });
}
