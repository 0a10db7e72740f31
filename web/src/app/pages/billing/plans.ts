// What each plan card offers, from the plan, the tenant's plan and its subscription
// (unit-tested in plans.test.ts). The server decides again: this only picks the button.
import type { BillingInterval, SubscriptionStatus } from '../../../gql/graphql';
import { isLive } from './format';

export interface PlanLike {
  key: string;
  name: string;
  monthlyPrice: { amount: number };
  trialDays: number;
}

export interface SubscriptionLike {
  status: SubscriptionStatus;
  planKey: string | null;
  interval: BillingInterval | null;
  cancelAtPeriodEnd: boolean;
}

export type PlanAction =
  | { kind: 'current' }
  | { kind: 'none'; note?: string }
  | { kind: 'checkout'; label: string }
  | { kind: 'change'; label: string; disabled?: string }
  | { kind: 'cancel'; label: string };

/**
 * The action a plan card offers. `order` is the plans' catalogue order (cheapest first),
 * `current` the tenant's plan key, `interval` the price toggle.
 */
export function planAction(
  plan: PlanLike,
  order: string[],
  current: string,
  sub: SubscriptionLike | null | undefined,
  interval: BillingInterval,
): PlanAction {
  const live = sub && isLive(sub.status) ? sub : null;
  const free = plan.monthlyPrice.amount === 0;
  const rank = (key: string | null) => (key === null ? -1 : order.indexOf(key));
  const direction = (target: string, from: string | null) =>
    rank(target) > rank(from) ? 'Upgrade to' : rank(target) < rank(from) ? 'Downgrade to' : 'Subscribe to';

  if (!live) {
    if (free) return plan.key === current ? { kind: 'current' } : { kind: 'none' };
    return { kind: 'checkout', label: `${direction(plan.key, current)} ${plan.name}` };
  }
  if (free) {
    if (live.cancelAtPeriodEnd) return { kind: 'none', note: 'Your subscription ends with this period; then this plan applies.' };
    return { kind: 'cancel', label: `Downgrade to ${plan.name}` };
  }
  if (live.planKey === plan.key && live.interval === interval) return { kind: 'current' };
  const label =
    live.planKey === plan.key
      ? `Switch to ${interval === 'YEAR' ? 'yearly' : 'monthly'} billing`
      : `${direction(plan.key, live.planKey)} ${plan.name}`;
  if (live.status === 'PAST_DUE') return { kind: 'change', label, disabled: 'A payment is overdue: pay it in the billing portal first.' };
  if (live.status === 'UNPAID' || live.status === 'PAUSED') {
    return { kind: 'change', label, disabled: 'Restore the subscription in the billing portal first.' };
  }
  return { kind: 'change', label };
}
