import { describe, expect, it } from 'vitest';
import { bucketLabel, rangeFor } from './range';

describe('usage ranges', () => {
  const now = new Date('2026-12-06T10:25:00Z');

  it('covers the last 48 hours up to the end of the current hour', () => {
    expect(rangeFor('48h', now)).toEqual({
      from: '2026-12-04T11:00:00.000Z',
      to: '2026-12-06T11:00:00.000Z',
      granularity: 'HOUR',
    });
  });

  it('covers the last 30 days up to the end of today (UTC)', () => {
    expect(rangeFor('30d', now)).toEqual({
      from: '2026-11-07T00:00:00.000Z',
      to: '2026-12-07T00:00:00.000Z',
      granularity: 'DAY',
    });
  });

  it('labels buckets in UTC', () => {
    expect(bucketLabel('2026-12-06T09:00:00Z', 'HOUR')).toBe('6 Dec 09:00');
    expect(bucketLabel('2026-12-06T00:00:00Z', 'DAY')).toBe('6 Dec');
  });
});
