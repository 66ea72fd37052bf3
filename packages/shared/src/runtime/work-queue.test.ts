import { afterEach, describe, expect, test } from 'vitest';
import { waitFor } from '@hairpin/testing';
import { done, retry, terminal, WorkQueue, type WorkResult } from './work-queue.ts';

const queues: WorkQueue[] = [];
afterEach(async () => {
  for (const q of queues.splice(0)) await q.stop();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function queue(
  work: () => Promise<WorkResult>,
  extra: { periodMs?: number; onError?: (err: unknown, ms: number) => void } = {},
): { q: WorkQueue; results: WorkResult[] } {
  const results: WorkResult[] = [];
  const q = new WorkQueue({
    work,
    debounceMs: 20,
    backoff: { baseMs: 10, maxMs: 40 },
    onResult: (r) => results.push(r),
    ...extra,
  });
  queues.push(q);
  q.start();
  return { q, results };
}

describe('WorkQueue', () => {
  test('a burst of adds is one run after the quiet time', async () => {
    let runs = 0;
    const { q } = queue(async () => {
      runs++;
      return done();
    });
    for (let i = 0; i < 10; i++) q.add();
    await sleep(5);
    expect(runs).toBe(0);
    await waitFor(() => runs === 1);
    await sleep(60);
    expect(runs).toBe(1);
  });

  test('one run at a time; an add during a run runs it again after', async () => {
    let active = 0;
    let most = 0;
    let runs = 0;
    const { q } = queue(async () => {
      active++;
      most = Math.max(most, active);
      runs++;
      await sleep(50);
      active--;
      return done();
    });
    q.add();
    await waitFor(() => active === 1);
    q.add();
    void q.run();
    await waitFor(() => runs === 2);
    await waitFor(() => active === 0);
    expect(most).toBe(1);
  });

  test('retry() backs off base·2ⁿ up to max; done resets; terminal waits for the next add', async () => {
    const plan: WorkResult[] = [retry(), retry(), retry(), retry(), done()];
    const { q, results } = queue(async () => plan.shift() ?? terminal('broken'));
    expect([1, 2, 3, 4].map((n) => q.backoffMs(n))).toEqual([20, 40, 40, 40]);
    q.add();
    await waitFor(() => results.length === 5);
    expect(q.failures).toBe(0);
    q.add();
    await waitFor(() => results.length === 6);
    expect(results[5]).toEqual({ kind: 'terminal', reason: 'broken' });
    await sleep(150);
    expect(results).toHaveLength(6);
    q.add();
    await waitFor(() => results.length === 7);
  });

  test('retry(afterMs) waits that long and is not a failure; a throw is a retry', async () => {
    const errors: number[] = [];
    let n = 0;
    const { q, results } = queue(
      async () => {
        n++;
        if (n === 1) return retry(30);
        if (n === 2) throw new Error('boom');
        return done();
      },
      { onError: (_err, ms) => errors.push(ms) },
    );
    q.add();
    await waitFor(() => results.length === 1);
    expect(q.failures).toBe(0);
    await waitFor(() => results.length === 3);
    expect(errors).toEqual([20]);
    expect(results.map((r) => r.kind)).toEqual(['retry', 'retry', 'done']);
  });

  test('the period re-runs the work; stop waits for the run and schedules nothing more', async () => {
    let runs = 0;
    const { q } = queue(
      async () => {
        runs++;
        await sleep(20);
        return retry();
      },
      { periodMs: 30 },
    );
    await waitFor(() => runs >= 2);
    await q.stop();
    const after = runs;
    await sleep(120);
    expect(runs).toBe(after);
    q.add();
    await sleep(60);
    expect(runs).toBe(after);
  });
});
