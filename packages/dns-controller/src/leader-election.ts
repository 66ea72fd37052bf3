// Leader election on a coordination.k8s.io/v1 Lease, so two replicas are safe: only the
// holder writes. The holder renews every renewMs; a holder that cannot renew within the
// lease duration steps down at once; a lease not renewed for its duration may be taken
// over; updates carry resourceVersion, so of two candidates only one wins (409 for the
// other). On shutdown the holder releases the lease so the other replica takes over
// without waiting for it to expire.
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import { isConflict, isNotFound, type Logger } from '@hairpin/shared/runtime';

export interface LeaderElectionOptions {
  readonly api: CoordinationV1Api;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewMs?: number;
  readonly log: Logger;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
}

export class LeaderElector {
  private readonly o: Required<
    Omit<LeaderElectionOptions, 'onStartedLeading' | 'onStoppedLeading' | 'log' | 'api'>
  > &
    LeaderElectionOptions;
  private timer: NodeJS.Timeout | undefined;
  private lastRenew = 0;
  private stopped = false;
  leading = false;

  constructor(options: LeaderElectionOptions) {
    this.o = { leaseDurationMs: 15_000, renewMs: 2_000, ...options };
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
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
      this.o.log.warn({ err }, 'could not release the lease; it will expire');
    }
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.o.log.info(
      { lease: this.o.name, identity: this.o.identity },
      leading ? 'became leader' : 'stopped leading',
    );
    if (leading) this.o.onStartedLeading();
    else this.o.onStoppedLeading();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.o.renewMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      if (await this.tryAcquireOrRenew()) this.lastRenew = Date.now();
    } catch (err) {
      if (!isConflict(err)) this.o.log.warn({ err }, 'lease update failed');
    }
    // A leader that could not renew for a whole lease duration steps down at once: the
    // other replica may already hold it.
    if (this.leading && Date.now() - this.lastRenew > this.o.leaseDurationMs)
      this.setLeading(false);
    this.schedule();
  }

  /** true when we hold the lease after this call. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { api, name, namespace, identity } = this.o;
    const now = new Date();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      renewTime: now,
    };
    let lease: V1Lease;
    try {
      lease = await api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await api.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: { ...spec, acquireTime: now, leaseTransitions: 0 },
        },
      });
      this.setLeading(true);
      return true;
    }
    const holder = lease.spec?.holderIdentity ?? '';
    const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : 0;
    const duration = (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
    const expired = holder === '' || renewed + duration < now.getTime();
    if (holder !== identity && !expired) {
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
            : { acquireTime: now, leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 }),
        },
      },
    });
    this.setLeading(true);
    return true;
  }
}
