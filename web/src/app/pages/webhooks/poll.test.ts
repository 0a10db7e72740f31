import { describe, expect, it } from 'vitest';
import { GIVE_UP_AFTER, MAX_DELAY, nextDelay } from './poll';

describe('delivery log polling', () => {
  it('backs off from 2 s, doubling, to 30 s at most', () => {
    expect([0, 1, 2, 3, 4, 5, 50].map((n) => nextDelay(n, 0))).toEqual([2000, 4000, 8000, 16000, 30000, 30000, MAX_DELAY]);
  });

  it('stops after a few minutes', () => {
    expect(nextDelay(9, GIVE_UP_AFTER - 30_000)).toBe(30_000);
    expect(nextDelay(9, GIVE_UP_AFTER - 29_999)).toBeNull();
  });
});
