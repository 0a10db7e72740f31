// Small pure helpers of the billing and usage pages (unit-tested in format.test.ts).
import type { SubscriptionStatus } from '../../../gql/graphql';

export { money } from '../../format';

/** A date for people, in UTC (billing periods and quota months are UTC): `6 Jan 2027`. */
export function day(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
}

/** Statuses whose subscription still exists (a second checkout is refused): the server's `live`. */
export function isLive(status: SubscriptionStatus | null | undefined): boolean {
  return status === 'ACTIVE' || status === 'TRIALING' || status === 'PAST_DUE' || status === 'UNPAID' || status === 'PAUSED';
}

/** Statuses that keep paying (a plan change is possible): the server's `pays`. */
export function isPaying(status: SubscriptionStatus | null | undefined): boolean {
  return status === 'ACTIVE' || status === 'TRIALING' || status === 'PAST_DUE';
}

export const STATUS_LABELS: Record<SubscriptionStatus, { label: string; color: string }> = {
  TRIALING: { label: 'Trial', color: 'blue' },
  ACTIVE: { label: 'Active', color: 'green' },
  PAST_DUE: { label: 'Payment overdue', color: 'red' },
  UNPAID: { label: 'Unpaid', color: 'red' },
  CANCELED: { label: 'Canceled', color: 'gray' },
  INCOMPLETE: { label: 'Awaiting first payment', color: 'yellow' },
  INCOMPLETE_EXPIRED: { label: 'Expired', color: 'gray' },
  PAUSED: { label: 'Paused', color: 'gray' },
};

/** Quota states: `ok` below 90 %, `warning` from 90 %, `over` from 100 %. */
export type QuotaLevel = 'ok' | 'warning' | 'over';

export function quotaLevel(percent: number): QuotaLevel {
  if (percent >= 100) return 'over';
  if (percent >= 90) return 'warning';
  return 'ok';
}

export const QUOTA_COLORS: Record<QuotaLevel, string> = { ok: 'blue', warning: 'orange', over: 'red' };

/** "in 3 days", "in 5 hours", "in a moment": how long until `iso` from `now`. */
export function timeUntil(iso: string, now: Date = new Date()): string {
  const ms = new Date(iso).getTime() - now.getTime();
  if (!Number.isFinite(ms) || ms <= 60_000) return 'in a moment';
  const hours = Math.round(ms / 3_600_000);
  if (hours < 1) return `in ${Math.round(ms / 60_000)} minutes`;
  if (hours < 48) return `in ${hours} hour${hours === 1 ? '' : 's'}`;
  const days = Math.round(ms / 86_400_000);
  return `in ${days} days`;
}

/** A whole number for people: `1,000,000`. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}
