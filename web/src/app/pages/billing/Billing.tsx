// The billing page (`/billing`): the plans side by side (monthly or yearly prices, limits,
// features, the tenant's plan marked), the subscription (Checkout to start one, prorated
// plan changes, Stripe's billing portal, cancel at the period's end, resume), invoices,
// and the notices for coming back from Checkout. Anyone in the tenant sees the plans;
// owners, admins and billing members the subscription and invoices; owners and billing
// members act (the server checks again: src/billing/account.rs).
import { Group, SegmentedControl, Stack, Text, Title } from '@mantine/core';
import { modals } from '@mantine/modals';
import { notify } from './notify';
import { useCallback, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import type { BillingInterval, BillingPlansQuery } from '../../../gql/graphql';
import { permissions } from '../../auth/viewer';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageHeader } from '../../components/PageHeader';
import { Failed, Loading, QueryState } from '../../components/PageState';
import { CheckoutReturn } from './CheckoutReturn';
import {
  BillingDocument,
  CancelSubscriptionDocument,
  ChangePlanDocument,
  CheckoutDocument,
  PlansDocument,
  PortalDocument,
  ResumeSubscriptionDocument,
} from './documents';
import { day, isLive } from './format';
import { Invoices } from './Invoices';
import { PlanCards } from './PlanCards';
import { planAction, type PlanAction } from './plans';
import { SubscriptionCard } from './SubscriptionCard';

type Plan = BillingPlansQuery['plans'][number];

export function Billing() {
  const [params, setParams] = useSearchParams();
  const outcome = params.get('checkout');
  const [interval, setBillingInterval] = useState<BillingInterval>('MONTH');
  const [first, setFirst] = useState(10);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const [plansResult, reexecutePlans] = useQuery({ query: PlansDocument });
  const role = plansResult.data?.viewer?.role ?? null;
  const p = permissions(role);
  const [billingResult, reexecuteBilling] = useQuery({
    query: BillingDocument,
    variables: { first },
    pause: !plansResult.data || !p.readBilling,
  });

  const [, checkout] = useMutation(CheckoutDocument);
  const [, portal] = useMutation(PortalDocument);
  const [, changePlan] = useMutation(ChangePlanDocument);
  const [, cancel] = useMutation(CancelSubscriptionDocument);
  const [, resume] = useMutation(ResumeSubscriptionDocument);

  const refresh = useCallback(() => {
    reexecutePlans({ requestPolicy: 'network-only' });
    if (p.readBilling) reexecuteBilling({ requestPolicy: 'network-only' });
  }, [reexecutePlans, reexecuteBilling, p.readBilling]);

  const dismissReturn = useCallback(() => setParams({}, { replace: true }), [setParams]);

  /** Runs a mutation with the page's busy and error state; true when it succeeded. */
  async function run(key: string, action: () => Promise<{ error?: unknown }>): Promise<boolean> {
    setBusy(key);
    setError(null);
    const result = await action();
    setBusy(null);
    if (result.error) {
      setError(result.error);
      return false;
    }
    // The notice of a past checkout no longer describes the subscription.
    if (outcome) setParams({}, { replace: true });
    return true;
  }

  async function redirectTo(key: string, action: () => Promise<{ error?: unknown; url?: string | undefined }>) {
    setBusy(key);
    setError(null);
    const result = await action();
    if (result.error || !result.url) {
      setBusy(null);
      setError(result.error ?? new Error('The server gave no page to go to.'));
      return;
    }
    // Stay busy: the browser leaves for Stripe's page.
    window.location.assign(result.url);
  }

  const startCheckout = (plan: Plan) =>
    redirectTo(plan.key, async () => {
      const r = await checkout({ planKey: plan.key, interval });
      return { error: r.error, url: r.data?.createCheckoutSession.url };
    });

  const openPortal = () =>
    redirectTo('portal', async () => {
      const r = await portal({});
      return { error: r.error, url: r.data?.createBillingPortalSession.url };
    });

  const confirmCancel = (periodEnd: string | null | undefined) =>
    modals.openConfirmModal({
      title: 'Cancel the subscription?',
      children: (
        <Text size="sm">
          The subscription ends at the end of the current period ({day(periodEnd)}); until then the plan and its limits
          stay. After that the workspace moves to the Free plan. Nothing is deleted: what is over the Free plan&apos;s
          limits keeps working, new additions are refused. You can resume before the period ends.
        </Text>
      ),
      labels: { confirm: 'Cancel at period end', cancel: 'Keep subscription' },
      confirmProps: { color: 'red' },
      onConfirm: () =>
        void run('cancel', () => cancel({ atPeriodEnd: true })).then((ok) => {
          if (ok) notify({ title: 'Subscription canceled', message: `It ends on ${day(periodEnd)}.` });
        }),
    });

  const doResume = () =>
    void run('resume', () => resume({})).then((ok) => {
      if (ok) notify({ color: 'green', title: 'Subscription resumed', message: 'It renews as before.' });
    });

  const confirmChange = (plan: Plan, label: string, endsTrial: boolean) =>
    modals.openConfirmModal({
      title: `${label}?`,
      children: (
        <Stack gap="xs">
          <Text size="sm">
            The change applies at once, with the {plan.name} plan&apos;s limits. It is prorated: the difference for the rest
            of this period is invoiced and charged now for an upgrade; a downgrade&apos;s credit goes toward your next
            invoice.
          </Text>
          {endsTrial && (
            <Text size="sm" fw={500}>
              The {plan.name} plan has no trial: this ends your trial and the new price is charged now.
            </Text>
          )}
        </Stack>
      ),
      labels: { confirm: label, cancel: 'Keep current plan' },
      onConfirm: () =>
        void run(plan.key, () => changePlan({ planKey: plan.key, interval })).then((ok) => {
          if (ok) {
            notify({ color: 'green', title: 'Plan changed', message: `Your workspace is on the ${plan.name} plan.` });
            refresh();
          }
        }),
    });

  return (
    <>
      <PageHeader title="Billing" description="Your plan, subscription and invoices." example="billing" />
      <QueryState result={plansResult} retry={() => reexecutePlans({ requestPolicy: 'network-only' })}>
        {(data) => {
          const billing = billingResult.data?.tenant.billing;
          const sub = billing?.subscription ?? null;
          const live = sub && isLive(sub.status) ? sub : null;
          // `planKey` is the freshest (the billing query reads it too); its plan's name from the list.
          const planName = data.plans.find((pl) => pl.key === data.tenant.planKey)?.name ?? data.tenant.plan.name;
          const applied = !p.readBilling || (live !== null && live.planKey === data.tenant.planKey);
          const canAct = p.manageBilling && billing?.configured === true;
          const order = data.plans.map((pl) => pl.key);
          const actionFor = canAct ? (plan: Plan) => planAction(plan, order, data.tenant.planKey, sub, interval) : null;
          const onAction = (plan: Plan, action: PlanAction) => {
            if (action.kind === 'checkout') void startCheckout(plan);
            if (action.kind === 'change') confirmChange(plan, action.label, sub?.status === 'TRIALING' && plan.trialDays === 0);
            if (action.kind === 'cancel') confirmCancel(live?.currentPeriodEnd);
          };
          return (
            <Stack gap="lg">
              {(outcome === 'success' || outcome === 'canceled') && (
                <CheckoutReturn outcome={outcome} applied={applied} planName={planName} refresh={refresh} onDismiss={dismissReturn} />
              )}
              {error !== null && <ErrorAlert error={error} />}
              {p.readBilling &&
                (billing ? (
                  <SubscriptionCard
                    billing={billing}
                    planName={planName}
                    canManage={p.manageBilling}
                    busy={busy}
                    onPortal={() => void openPortal()}
                    onCancel={() => confirmCancel(live?.currentPeriodEnd)}
                    onResume={doResume}
                  />
                ) : billingResult.error ? (
                  <Failed error={billingResult.error} retry={() => reexecuteBilling({ requestPolicy: 'network-only' })} />
                ) : (
                  <Loading label="Loading the subscription…" />
                ))}
              <section aria-labelledby="plans-heading">
                <Group justify="space-between" mb="sm" wrap="wrap" gap="sm">
                  <Title order={2} size="h3" id="plans-heading">
                    Plans
                  </Title>
                  <SegmentedControl
                    aria-label="Billing interval"
                    value={interval}
                    onChange={(v) => setBillingInterval(v as BillingInterval)}
                    data={[
                      { value: 'MONTH', label: 'Monthly' },
                      { value: 'YEAR', label: 'Yearly' },
                    ]}
                  />
                </Group>
                {!p.manageBilling && (
                  <Text size="sm" c="dimmed" mb="sm">
                    You are on the {planName} plan. Owners and billing members change it.
                  </Text>
                )}
                <PlanCards
                  plans={data.plans}
                  currentKey={data.tenant.planKey}
                  interval={interval}
                  actionFor={actionFor}
                  onAction={onAction}
                  busy={busy}
                />
              </section>
              {billing && (
                <Invoices
                  invoices={billing.invoices}
                  loading={billingResult.fetching}
                  onMore={() => setFirst((n) => Math.min(100, n + 10))}
                />
              )}
            </Stack>
          );
        }}
      </QueryState>
    </>
  );
}
