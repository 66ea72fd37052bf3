// Leader election on a coordination.k8s.io/v1 Lease, so two replicas are safe: only the
// holder writes. The holder renews every renewMs; a holder that cannot renew within the
// lease duration steps down at once; a lease not renewed for its duration may be taken
// over; updates carry resourceVersion, so of two candidates only one wins (409 for the
// other). On shutdown the holder releases the lease so the other replica takes over
// without waiting for it to expire.
//
// Observable: hairpin_dns_leader (0/1), hairpin_dns_leader_election_errors_total (every
// failed read or write of the Lease, a lost race aside), and when the Lease cannot be
// written for a whole lease duration, one error-level log line and a /readyz reason: an
// election that can never succeed must not look healthy.
import type { CoordinationV1Api, V1LeaseSpec, V1MicroTime } from '@kubernetes/client-node';
import { microTime } from '@hairpin/shared';
import { describeApiError, isConflict, isNotFound, type Logger } from '@hairpin/shared/runtime';
import { liveHolder } from './lease-holder.ts';
import type { LeaderElectionMetrics } from './metrics.ts';

export interface LeaderElectionOptions {
  readonly api: CoordinationV1Api;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewMs?: number;
  readonly log: Logger;
  readonly metrics: LeaderElectionMetrics;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
}

/**
 * A Lease time for a request body. client-node declares MicroTime fields as a Date, whose
 * JSON form has three fractional digits (kubernetes-client/javascript#828), and its
 * serializer passes MicroTime values through untouched: give it the six-digit string.
 */
function leaseTime(date: Date): V1MicroTime {
  return microTime(date) as unknown as V1MicroTime;
}

export class LeaderElector {
  private readonly o: Required<
    Omit<LeaderElectionOptions, 'onStartedLeading' | 'onStoppedLeading' | 'log' | 'api' | 'metrics'>
  > &
    LeaderElectionOptions;
  private timer: NodeJS.Timeout | undefined;
  /** The attempt in flight, so stop() releases only after it (it could renew otherwise). */
  private attempt: Promise<void> = Promise.resolve();
  private lastRenew = 0;
  private stopped = false;
  /** Since when every attempt to read or write the Lease has failed; undefined if none. */
  private failingSince: number | undefined;
  private lastError = '';
  private reportedFailing = false;
  leading = false;

  constructor(options: LeaderElectionOptions) {
    this.o = { leaseDurationMs: 15_000, renewMs: 2_000, ...options };
    this.o.metrics.leader.set(0);
  }

  start(): void {
    this.stopped = false;
    this.attempt = this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.attempt;
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.o.api.readNamespacedLease({
        name: this.o.name,
        namespace: this.o.namespace,
      });
      if (lease.spec?.holderIdentity === this.o.identity) {
        await this.o.api.replaceNamespacedLease({
          name: this.o.name,
          namespace: this.o.namespace,
          body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } },
        });
        this.o.log.info({ lease: this.o.name }, 'leadership released');
      }
    } catch (err) {
      this.o.metrics.errors.inc();
      this.o.log.warn(
        { error: describeApiError(err) },
        'could not release the lease; it will expire',
      );
    }
  }

  /** Why this replica is not ready: the Lease has not been writable for a lease duration. */
  notReadyReason(now = Date.now()): string | null {
    if (!this.reportedFailing || this.failingSince === undefined) return null;
    const seconds = Math.round((now - this.failingSince) / 1000);
    return `lease ${this.o.namespace}/${this.o.name} not writable for ${seconds} s: ${this.lastError}`;
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.o.metrics.leader.set(leading ? 1 : 0);
    this.o.log.info(
      { lease: this.o.name, identity: this.o.identity },
      leading ? 'became leader' : 'stopped leading',
    );
    if (leading) this.o.onStartedLeading();
    else this.o.onStoppedLeading();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => (this.attempt = this.tick()), this.o.renewMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      if (await this.tryAcquireOrRenew()) this.lastRenew = Date.now();
      this.succeeded();
    } catch (err) {
      // A 409 is a lost race with the other candidate: the election working, not failing.
      if (isConflict(err)) this.succeeded();
      else this.failed(err);
    }
    // A leader that could not renew for a whole lease duration steps down at once: the
    // other replica may already hold it.
    if (this.leading && Date.now() - this.lastRenew > this.o.leaseDurationMs)
      this.setLeading(false);
    this.schedule();
  }

  private succeeded(): void {
    if (this.reportedFailing) this.o.log.info({ lease: this.o.name }, 'lease writable again');
    this.failingSince = undefined;
    this.reportedFailing = false;
  }

  private failed(err: unknown): void {
    const now = Date.now();
    this.o.metrics.errors.inc();
    this.lastError = describeApiError(err);
    this.failingSince ??= now;
    const failingForMs = now - this.failingSince;
    if (failingForMs >= this.o.leaseDurationMs && !this.reportedFailing) {
      this.reportedFailing = true;
      this.o.log.error(
        { lease: this.o.name, error: this.lastError, failingForMs },
        'the lease cannot be written: this replica cannot lead, nothing is reconciled by it',
      );
    } else {
      this.o.log.warn({ lease: this.o.name, error: this.lastError }, 'lease update failed');
    }
  }

  /** true when we hold the lease after this call. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { api, name, namespace, identity } = this.o;
    const now = new Date();
    const spec: V1LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      renewTime: leaseTime(now),
    };
    let lease;
    try {
      lease = await api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await api.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: { ...spec, acquireTime: leaseTime(now), leaseTransitions: 0 },
        },
      });
      this.setLeading(true);
      return true;
    }
    const holder = lease.spec?.holderIdentity ?? '';
    const live = liveHolder(lease.spec, now.getTime());
    if (live !== undefined && live.identity !== identity) {
      this.setLeading(false);
      return false;
    }
    await api.replaceNamespacedLease({
      name,
      namespace,
      body: {
        ...lease,
        spec: {
          ...lease.spec,
          ...spec,
          ...(holder === identity
            ? {}
            : {
                acquireTime: leaseTime(now),
                leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1,
              }),
        },
      },
    });
    this.setLeading(true);
    return true;
  }
}
