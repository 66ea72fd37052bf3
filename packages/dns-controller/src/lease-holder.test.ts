import { describe, expect, test } from 'vitest';
import { liveHolder, runningControllerMessage } from './lease-holder.ts';

const now = Date.parse('2026-12-02T08:48:30.000Z');

describe('liveHolder', () => {
  test('a held Lease renewed within its duration is live', () => {
    const h = liveHolder(
      {
        holderIdentity: 'pod-a',
        leaseDurationSeconds: 15,
        renewTime: '2026-12-02T08:48:27.742000Z',
      } as never,
      now,
    );
    expect(h).toEqual({ identity: 'pod-a', renewedAgoMs: 2258 });
    expect(runningControllerMessage(h!)).toBe(
      'the controller is running (lease held by pod-a, renewed 2 s ago): scale it to 0 first',
    );
  });

  test('released, expired, never renewed or unreadable: no live holder', () => {
    const spec = (s: object) => s as never;
    expect(
      liveHolder(spec({ holderIdentity: '', renewTime: '2026-12-02T08:48:29.000000Z' }), now),
    ).toBeUndefined();
    expect(
      liveHolder(
        spec({
          holderIdentity: 'pod-a',
          leaseDurationSeconds: 1,
          renewTime: '2026-12-02T08:48:27.000000Z',
        }),
        now,
      ),
    ).toBeUndefined();
    expect(liveHolder(spec({ holderIdentity: 'pod-a' }), now)).toBeUndefined();
    expect(
      liveHolder(spec({ holderIdentity: 'pod-a', renewTime: 'yesterday' }), now),
    ).toBeUndefined();
    expect(liveHolder(undefined, now)).toBeUndefined();
  });

  test('a holder whose clock is ahead is live, renewed 0 s ago', () => {
    expect(
      liveHolder(
        { holderIdentity: 'pod-b', renewTime: '2026-12-02T08:48:31.000000Z' } as never,
        now,
      ),
    ).toEqual({ identity: 'pod-b', renewedAgoMs: 0 });
  });
});
