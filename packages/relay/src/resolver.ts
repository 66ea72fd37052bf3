// The upstream target: a DNS name resolved when needed, cached, re-resolved in the
// background, every address used in turn. A target that does not resolve never crashes
// the process (hairpin-proxy's HAProxy crash-looped on it): the relay reports not ready
// and keeps trying.
//
// When the name stops existing (NXDOMAIN, no addresses), the last good answer is used for
// holdNxMs more (HAProxy's `hold nx`, 30 s by default), then dropped: the relay reports not
// ready and closes connections as `no_upstream` until the name resolves again. A DNS server
// that does not answer (EAI_AGAIN, a timeout) says nothing about the name: the last answer
// stays. An address a connection failed to reach is tried after the others for a while,
// so a dead address costs one connect timeout or one refusal, not every other connection.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from '@hairpin/shared/runtime';

export type LookupAll = (host: string) => Promise<readonly string[]>;

export const systemLookup: LookupAll = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** HAProxy's default for `hold nx`. */
export const DEFAULT_HOLD_NX_MS = 30_000;
/** How long an address that failed a connect is tried only after the others. */
export const FAILED_ADDRESS_RETRY_MS = 10_000;

/** Answers that say the name does not exist (getaddrinfo EAI_NONAME / EAI_NODATA). */
function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}

export interface TargetResolverOptions {
  readonly lookup: LookupAll;
  readonly intervalMs: number;
  readonly log: Logger;
  /** How long the last good answer is kept after the name stops resolving. */
  readonly holdNxMs?: number;
  readonly failedRetryMs?: number;
}

export class TargetResolver {
  readonly host: string;
  private addresses: readonly string[];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private failures = 0;
  /** When the name was first found missing after the last good answer (performance.now()). */
  private missingSince: number | undefined;
  /** Addresses a connect failed to, and when. */
  private readonly failed = new Map<string, number>();
  private stopped = false;
  private readonly lookupAll: LookupAll;
  private readonly intervalMs: number;
  private readonly holdNxMs: number;
  private readonly failedRetryMs: number;
  private readonly log: Logger;

  constructor(host: string, options: TargetResolverOptions) {
    this.host = host;
    this.lookupAll = options.lookup;
    this.intervalMs = options.intervalMs;
    this.holdNxMs = options.holdNxMs ?? DEFAULT_HOLD_NX_MS;
    this.failedRetryMs = options.failedRetryMs ?? FAILED_ADDRESS_RETRY_MS;
    this.log = options.log;
    this.addresses = isIP(host) === 0 ? [] : [host];
  }

  get resolved(): boolean {
    this.expireHold();
    return this.addresses.length > 0;
  }

  /**
   * Addresses for one connection attempt, in order: those not failed recently, each in
   * turn first; then the recently failed ones, longest ago first, as a last resort.
   */
  pick(): readonly string[] {
    this.expireHold();
    const all = this.addresses;
    if (all.length <= 1) return all;
    let live = all;
    let down: string[] = [];
    if (this.failed.size > 0) {
      const now = performance.now();
      for (const [address, at] of this.failed) {
        if (now - at >= this.failedRetryMs) this.failed.delete(address);
      }
      live = all.filter((a) => !this.failed.has(a));
      down = all
        .filter((a) => this.failed.has(a))
        .sort((a, b) => this.failed.get(a)! - this.failed.get(b)!);
    }
    if (live.length === 0) return down;
    const start = this.next++ % live.length;
    return [...live.slice(start), ...live.slice(0, start), ...down];
  }

  /** A connect to `address` failed: try the other addresses first for a while. */
  markFailed(address: string): void {
    if (this.addresses.length > 1) this.failed.set(address, performance.now());
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
      .then((addresses) => {
        if (addresses.length === 0) {
          throw Object.assign(new Error(`${this.host}: no addresses`), { code: 'ENODATA' });
        }
        if (!this.resolved || this.failures > 0) {
          this.log.info({ target: this.host, addresses }, 'upstream target resolved');
        }
        this.addresses = addresses;
        this.failures = 0;
        this.missingSince = undefined;
        for (const a of this.failed.keys()) if (!addresses.includes(a)) this.failed.delete(a);
      })
      .catch((err: unknown) => {
        this.failures++;
        if (isNotFound(err)) this.missingSince ??= performance.now();
        const details = {
          err,
          target: this.host,
          cached: this.addresses,
          failures: this.failures,
        };
        // One warning when it starts; the rest at debug (readyz and the metrics say it).
        if (this.failures === 1) this.log.warn(details, 'upstream target did not resolve');
        else this.log.debug(details, 'upstream target did not resolve');
        this.expireHold();
      })
      .finally(() => {
        this.inflight = undefined;
        this.schedule();
      });
    return this.inflight;
  }

  /** Drops the last good answer once the name has been missing for holdNxMs. */
  private expireHold(): void {
    if (this.missingSince === undefined || this.addresses.length === 0) return;
    if (performance.now() - this.missingSince < this.holdNxMs) return;
    this.log.warn(
      { target: this.host, dropped: this.addresses, holdNxMs: this.holdNxMs },
      'upstream target has not resolved for the hold-nx time: no upstream until it does',
    );
    this.addresses = [];
    this.failed.clear();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    // Failing: retry soon with backoff (0.5 s .. the interval); resolved: re-resolve at
    // the interval so Service changes are followed.
    const delay =
      this.failures === 0
        ? this.intervalMs
        : Math.min(this.intervalMs, 500 * 2 ** Math.min(this.failures - 1, 6));
    this.timer = setTimeout(() => void this.refresh(), delay);
    this.timer.unref();
  }
}
