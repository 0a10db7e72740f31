// The usage chart's ranges: the last 48 hours by the hour, the last 30 days by the day
// (UTC buckets, as the server keeps them). Unit-tested in range.test.ts.
import type { UsageGranularity } from '../../../gql/graphql';

export type RangeKind = '48h' | '30d';

export interface Range {
  from: string;
  to: string;
  granularity: UsageGranularity;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The range ending with the bucket `now` is in (so the current hour or day is shown). */
export function rangeFor(kind: RangeKind, now: Date = new Date()): Range {
  const t = now.getTime();
  if (kind === '48h') {
    const end = Math.floor(t / HOUR) * HOUR + HOUR;
    return { from: new Date(end - 48 * HOUR).toISOString(), to: new Date(end).toISOString(), granularity: 'HOUR' };
  }
  const end = Math.floor(t / DAY) * DAY + DAY;
  return { from: new Date(end - 30 * DAY).toISOString(), to: new Date(end).toISOString(), granularity: 'DAY' };
}

/** A bucket's label on the chart's axis (UTC): `14:00` for hours, `6 Dec` for days. */
export function bucketLabel(at: string, granularity: UsageGranularity): string {
  const d = new Date(at);
  if (granularity === 'HOUR') {
    return `${d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' })} ${String(d.getUTCHours()).padStart(2, '0')}:00`;
  }
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
}
