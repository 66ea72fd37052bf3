// One work item, reconciled level-based (controller-runtime's shape, for a single key):
// every event calls add(); after a quiet `debounceMs` the work runs, one run at a time (an
// add() during a run runs it again right after). The work says what happened:
//   done()            the state is in line; nothing is scheduled
//   retry()           it failed and retrying can fix it: rate-limited, base·2ⁿ up to max
//   retry(afterMs)    run again after this long (a wait, not a failure: no backoff)
//   terminal(reason)  retrying cannot fix it: nothing is scheduled until the next add()
// A throw counts as retry(). An optional period re-runs the work (a periodic re-check).

export type WorkResult =
  | { readonly kind: 'done' }
  | { readonly kind: 'retry'; readonly afterMs: number | undefined }
  | { readonly kind: 'terminal'; readonly reason: string };

export const done = (): WorkResult => ({ kind: 'done' });
export const retry = (afterMs?: number): WorkResult => ({ kind: 'retry', afterMs });
export const terminal = (reason: string): WorkResult => ({ kind: 'terminal', reason });

export interface WorkQueueOptions {
  readonly work: () => Promise<WorkResult>;
  /** Quiet time after the last add() before the work runs (bursts of events, one run). */
  readonly debounceMs: number;
  /** Rate-limited requeue after a failure: baseMs·2ⁿ (n failures in a row), at most maxMs. */
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  /** Re-run this often even without events (undefined: never). */
  readonly periodMs?: number;
  /** The work threw; it is retried in `retryInMs`. */
  readonly onError?: (err: unknown, retryInMs: number) => void;
  /** After every run, with its result (metrics, logs). */
  readonly onResult?: (result: WorkResult) => void;
}

export class WorkQueue {
  private readonly o: WorkQueueOptions;
  private debounce: NodeJS.Timeout | undefined;
  private requeue: NodeJS.Timeout | undefined;
  private period: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private stopped = true;
  /** Failures in a row (reset by done or terminal). */
  failures = 0;

  constructor(options: WorkQueueOptions) {
    this.o = options;
  }

  start(): void {
    this.stopped = false;
    if (this.o.periodMs !== undefined) {
      this.period = setInterval(() => this.add(), this.o.periodMs);
      this.period.unref();
    }
  }

  /** Stops scheduling and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.debounce);
    clearTimeout(this.requeue);
    clearInterval(this.period);
    await this.running;
  }

  /** Every event lands here: debounced, then one run. */
  add(): void {
    if (this.stopped) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.run(), this.o.debounceMs);
  }

  /** The delay retry() without a delay waits after `failures` failures in a row. */
  backoffMs(failures: number): number {
    const { baseMs, maxMs } = this.o.backoff;
    return Math.min(maxMs, baseMs * 2 ** Math.min(failures, 30));
  }

  /** Runs now (or right after the run in progress); resolves when that run is over. */
  run(): Promise<void> {
    if (this.running !== undefined) {
      this.dirty = true;
      return this.running;
    }
    this.running = this.runOnce().finally(() => {
      this.running = undefined;
      if (this.dirty) {
        this.dirty = false;
        this.add();
      }
    });
    return this.running;
  }

  private async runOnce(): Promise<void> {
    if (this.stopped) return;
    let result: WorkResult;
    try {
      result = await this.o.work();
    } catch (err) {
      result = retry();
      this.o.onError?.(err, this.backoffMs(this.failures + 1));
    }
    this.o.onResult?.(result);
    clearTimeout(this.requeue);
    if (result.kind !== 'retry') {
      this.failures = 0;
      return;
    }
    let delay = result.afterMs;
    if (delay === undefined) delay = this.backoffMs(++this.failures);
    if (this.stopped) return;
    this.requeue = setTimeout(() => void this.run(), delay);
    this.requeue.unref();
  }
}
