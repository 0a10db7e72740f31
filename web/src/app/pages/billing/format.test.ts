import { describe, expect, it } from 'vitest';
import { count, day, isLive, isPaying, money, quotaLevel, timeUntil } from './format';

describe('billing formats', () => {
  it('formats amounts in the smallest unit of their currency', () => {
    expect(money(2900, 'usd')).toBe('$29.00');
    expect(money(29000, 'eur')).toBe('€290.00');
    expect(money(500, 'jpy')).toBe('¥500');
    expect(money(1234, 'zzz')).toMatch(/12\.34/);
  });

  it('shows dates in UTC', () => {
    expect(day('2027-01-01T00:00:00Z')).toBe('1 Jan 2027');
    expect(day(null)).toBe('—');
    expect(day('not a date')).toBe('—');
  });

  it('knows which subscriptions still exist and which pay', () => {
    expect(isLive('PAST_DUE')).toBe(true);
    expect(isLive('CANCELED')).toBe(false);
    expect(isPaying('UNPAID')).toBe(false);
    expect(isPaying('TRIALING')).toBe(true);
  });

  it('turns quotas to warning at 90 % and over at 100 %', () => {
    expect(quotaLevel(89.9)).toBe('ok');
    expect(quotaLevel(90)).toBe('warning');
    expect(quotaLevel(100)).toBe('over');
    expect(quotaLevel(150)).toBe('over');
  });

  it('says how long until a reset', () => {
    const now = new Date('2026-12-06T00:00:00Z');
    expect(timeUntil('2027-01-01T00:00:00Z', now)).toBe('in 26 days');
    expect(timeUntil('2026-12-06T05:00:00Z', now)).toBe('in 5 hours');
    expect(timeUntil('2026-12-05T00:00:00Z', now)).toBe('in a moment');
    expect(count(1000000)).toBe('1,000,000');
  });
});
