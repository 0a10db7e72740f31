import { describe, expect, it } from 'vitest';
import { planAction, type SubscriptionLike } from './plans';

const order = ['free', 'basic', 'pro', 'enterprise'];
const plan = (key: string, amount: number, trialDays = 0) => ({
  key,
  name: key[0]!.toUpperCase() + key.slice(1),
  monthlyPrice: { amount },
  trialDays,
});
const sub = (over: Partial<SubscriptionLike> = {}): SubscriptionLike => ({
  status: 'ACTIVE',
  planKey: 'basic',
  interval: 'MONTH',
  cancelAtPeriodEnd: false,
  ...over,
});

describe('planAction', () => {
  it('sends a free tenant to Checkout for paid plans', () => {
    expect(planAction(plan('free', 0), order, 'free', null, 'MONTH')).toEqual({ kind: 'current' });
    expect(planAction(plan('basic', 2900, 14), order, 'free', null, 'MONTH')).toEqual({ kind: 'checkout', label: 'Upgrade to Basic' });
  });

  it('treats an ended subscription as none', () => {
    expect(planAction(plan('pro', 9900), order, 'free', sub({ status: 'CANCELED' }), 'MONTH').kind).toBe('checkout');
  });

  it('changes a live subscription in place, prorated', () => {
    expect(planAction(plan('basic', 2900), order, 'basic', sub(), 'MONTH')).toEqual({ kind: 'current' });
    expect(planAction(plan('basic', 2900), order, 'basic', sub(), 'YEAR')).toEqual({ kind: 'change', label: 'Switch to yearly billing' });
    expect(planAction(plan('pro', 9900), order, 'basic', sub(), 'MONTH')).toEqual({ kind: 'change', label: 'Upgrade to Pro' });
    expect(planAction(plan('free', 0), order, 'basic', sub(), 'MONTH')).toEqual({ kind: 'cancel', label: 'Downgrade to Free' });
  });

  it('holds changes while a payment is overdue', () => {
    const a = planAction(plan('pro', 9900), order, 'basic', sub({ status: 'PAST_DUE' }), 'MONTH');
    expect(a.kind).toBe('change');
    expect(a.kind === 'change' && a.disabled).toMatch(/overdue/);
  });

  it('offers nothing more on Free once the subscription is set to end', () => {
    expect(planAction(plan('free', 0), order, 'basic', sub({ cancelAtPeriodEnd: true }), 'MONTH').kind).toBe('none');
  });
});
