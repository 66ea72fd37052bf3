// The upstream target: a DNS name resolved when needed, cached, re-resolved in the
// background, every address used in turn. A target that does not resolve never crashes
// the process (hairpin-proxy's HAProxy crash-looped on it): the relay reports not ready
// and keeps trying.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from '@hairpin/shared/runtime';

export type LookupAll = (host: string) => Promise<readonly string[]>;

export const systemLookup: LookupAll = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export class TargetResolver {
  readonly host: string;
  private addresses: readonly string[];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private failures = 0;
  private stopped = false;
  private readonly lookupAll: LookupAll;
  private readonly intervalMs: number;
  private readonly log: Logger;

  constructor(host: string, options: { lookup: LookupAll; intervalMs: number; log: Logger }) {
    this.host = host;
    this.lookupAll = options.lookup;
    this.intervalMs = options.intervalMs;
    this.log = options.log;
    this.addresses = isIP(host) === 0 ? [] : [host];
  }

  get resolved(): boolean {
    return this.addresses.length > 0;
  }

  /** Addresses for one connection attempt: each in turn first, then the others. */
  pick(): readonly string[] {
    const all = this.addresses;
    if (all.length <= 1) return all;
    const start = this.next++ % all.length;
    return [...all.slice(start), ...all.slice(0, start)];
  }

  start(): void {
    if (isIP(this.host) !== 0) return;
    void this.refresh();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Resolves now (shared by concurrent callers); keeps the last good answer on failure. */
  refresh(): Promise<void> {
    this.inflight ??= this.lookupAll(this.host)
      .then(
        (addresses) => {
          if (addresses.length === 0) throw new Error('no addresses');
          if (!this.resolved || this.failures > 0) {
            this.log.info({ target: this.host, addresses }, 'upstream target resolved');
          }
          this.addresses = addresses;
          this.failures = 0;
        },
        (err: unknown) => {
          this.failures++;
          this.log.warn(
            { err, target: this.host, cached: this.addresses, failures: this.failures },
            'upstream target did not resolve',
          );
        },
      )
      .finally(() => {
        this.inflight = undefined;
        this.schedule();
      });
    return this.inflight;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    // Unresolved: retry soon with backoff (0.5 s .. the interval); resolved: re-resolve
    // at the interval so Service changes are followed.
    const delay = this.resolved
      ? this.intervalMs
      : Math.min(this.intervalMs, 500 * 2 ** Math.min(this.failures, 6));
    this.timer = setTimeout(() => void this.refresh(), delay);
    this.timer.unref();
  }
}
