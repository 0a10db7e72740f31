// The tenant's subscription as Stripe last told us: status, plan, interval, the current
// period, the trial, a pending cancellation; and (owners, billing members) the billing
// portal, cancel at the period's end, resume.
import { Alert, Badge, Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import type { TenantBillingQuery } from '../../../gql/graphql';
import { day, isLive, STATUS_LABELS } from './format';

type Billing = TenantBillingQuery['tenant']['billing'];

export function SubscriptionCard({
  billing,
  planName,
  canManage,
  busy,
  onPortal,
  onCancel,
  onResume,
}: {
  billing: Billing;
  planName: string;
  canManage: boolean;
  busy: string | null;
  onPortal: () => void;
  onCancel: () => void;
  onResume: () => void;
}) {
  const sub = billing.subscription;
  const live = sub && isLive(sub.status) ? sub : null;
  const status = sub ? STATUS_LABELS[sub.status] : null;
  return (
    <Card withBorder padding="lg" data-testid="subscription">
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap">
          <Title order={2} size="h4">
            Subscription
          </Title>
          {status && (
            <Badge color={status.color} variant="dot" data-testid="subscription-status">
              {status.label}
            </Badge>
          )}
        </Group>
        {!billing.configured && (
          <Alert color="gray" variant="light" title="Billing is not set up on this server">
            Plans are assigned by a platform admin. Your workspace is on the {planName} plan.
          </Alert>
        )}
        {billing.configured && !live && (
          <Text size="sm">
            No running subscription: your workspace is on the <strong>{planName}</strong> plan
            {sub ? ` (the last subscription is ${STATUS_LABELS[sub.status].label.toLowerCase()})` : ''}. Choose a paid plan
            below to subscribe through Stripe Checkout.
          </Text>
        )}
        {live && (
          <Stack gap={4}>
            <Text size="sm">
              <strong>{live.plan?.name ?? 'A plan no longer offered'}</strong>, billed{' '}
              {live.interval === 'YEAR' ? 'yearly' : 'monthly'}.
            </Text>
            {live.status === 'TRIALING' && live.trialEnd && (
              <Text size="sm">Free trial until {day(live.trialEnd)}; the first payment is charged then.</Text>
            )}
            {live.cancelAtPeriodEnd ? (
              <Text size="sm" fw={600}>
                Ends on {day(live.currentPeriodEnd)}: the workspace then moves to the Free plan.
              </Text>
            ) : (
              live.currentPeriodEnd && (
                <Text size="sm">
                  Current period {day(live.currentPeriodStart)} – {day(live.currentPeriodEnd)}; renews on{' '}
                  {day(live.currentPeriodEnd)}.
                </Text>
              )
            )}
          </Stack>
        )}
        {billing.warning && (
          <Alert color={sub?.status === 'PAST_DUE' || sub?.status === 'UNPAID' ? 'red' : 'yellow'} role="alert" data-testid="billing-warning">
            {billing.warning}
          </Alert>
        )}
        {canManage && billing.configured && (
          <Group gap="sm">
            {billing.customerPortalAvailable && (
              <Button variant="default" onClick={onPortal} loading={busy === 'portal'} disabled={busy !== null && busy !== 'portal'}>
                Manage in Stripe portal
              </Button>
            )}
            {live && !live.cancelAtPeriodEnd && (
              <Button variant="subtle" color="red" onClick={onCancel} loading={busy === 'cancel'} disabled={busy !== null && busy !== 'cancel'}>
                Cancel subscription
              </Button>
            )}
            {live?.cancelAtPeriodEnd && (
              <Button onClick={onResume} loading={busy === 'resume'} disabled={busy !== null && busy !== 'resume'}>
                Resume subscription
              </Button>
            )}
          </Group>
        )}
        {!canManage && (
          <Text size="xs" c="dimmed">
            Owners and billing members manage the subscription.
          </Text>
        )}
      </Stack>
    </Card>
  );
}
