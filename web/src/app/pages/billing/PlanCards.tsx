// The plan comparison: one card per offered plan with the same rows in the same order
// (price for the chosen interval, limits, features), the tenant's plan marked, and the
// one action that plan offers to those who manage billing.
import { Badge, Button, Card, Group, List, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import type { BillingInterval, BillingPlansQuery } from '../../../gql/graphql';
import { count } from './format';
import type { PlanAction } from './plans';

type Plan = BillingPlansQuery['plans'][number];

function yes(on: boolean) {
  return on ? 'Included' : 'Not included';
}

export function PlanCards({
  plans,
  currentKey,
  interval,
  actionFor,
  onAction,
  busy,
}: {
  plans: Plan[];
  currentKey: string;
  interval: BillingInterval;
  /** Null: the viewer cannot act (role, or billing is off). */
  actionFor: ((plan: Plan) => PlanAction) | null;
  onAction: (plan: Plan, action: PlanAction) => void;
  busy: string | null;
}) {
  return (
    <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }} spacing="md" component="ul" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
      {plans.map((plan) => {
        const current = plan.key === currentKey;
        const price = interval === 'YEAR' ? plan.yearlyPrice : plan.monthlyPrice;
        const action = actionFor?.(plan) ?? null;
        return (
          <Card
            key={plan.key}
            component="li"
            withBorder
            padding="lg"
            aria-label={`${plan.name} plan${current ? ' (your plan)' : ''}`}
            data-testid={`plan-${plan.key}`}
            style={current ? { borderColor: 'var(--mantine-primary-color-filled)', borderWidth: 2 } : undefined}
          >
            <Stack gap="sm" h="100%">
              <Group justify="space-between" wrap="wrap" gap={6}>
                <Title order={2} size="h4">
                  {plan.name}
                </Title>
                {current && <Badge variant="filled">Current plan</Badge>}
              </Group>
              <div>
                <Text fw={700} size="xl" span>
                  {price.formatted}
                </Text>
                <Text c="dimmed" size="sm" span>
                  {' '}
                  / {interval === 'YEAR' ? 'year' : 'month'}
                </Text>
                <Text size="xs" c="dimmed">
                  {plan.trialDays > 0 ? `${plan.trialDays}-day free trial on a first subscription` : 'No trial'}
                </Text>
              </div>
              <List size="sm" spacing={4} aria-label={`${plan.name}: limits and features`}>
                <List.Item>{count(plan.limits.members)} members</List.Item>
                <List.Item>{count(plan.limits.apiCallsPerHour)} API calls / hour</List.Item>
                {plan.limits.monthlyQuotas.map((q) => (
                  <List.Item key={q.metric}>
                    {count(q.limit)} {q.metric} / month
                  </List.Item>
                ))}
                <List.Item>Audit trail kept {plan.features.auditRetentionDays} days</List.Item>
                <List.Item>Custom branding: {yes(plan.features.customBranding)}</List.Item>
                <List.Item>SSO-ready: {yes(plan.features.ssoReady)}</List.Item>
                <List.Item>Custom domain: {yes(plan.features.customDomain)}</List.Item>
              </List>
              <div style={{ marginTop: 'auto' }}>
                <ActionButton plan={plan} action={action} onAction={onAction} busy={busy} />
              </div>
            </Stack>
          </Card>
        );
      })}
    </SimpleGrid>
  );
}

function ActionButton({
  plan,
  action,
  onAction,
  busy,
}: {
  plan: Plan;
  action: PlanAction | null;
  onAction: (plan: Plan, action: PlanAction) => void;
  busy: string | null;
}) {
  if (!action || action.kind === 'current') return null;
  if (action.kind === 'none') {
    return action.note ? (
      <Text size="xs" c="dimmed">
        {action.note}
      </Text>
    ) : null;
  }
  const disabled = action.kind === 'change' ? action.disabled : undefined;
  const button = (
    <Button
      fullWidth
      variant={action.kind === 'cancel' ? 'default' : 'filled'}
      // Long plan names wrap instead of being cut off.
      styles={{ root: { height: 'auto', minHeight: 36, paddingBlock: 6 }, label: { whiteSpace: 'normal', textAlign: 'center' } }}
      loading={busy === plan.key}
      disabled={Boolean(disabled) || (busy !== null && busy !== plan.key)}
      onClick={() => onAction(plan, action)}
    >
      {action.label}
    </Button>
  );
  if (!disabled) return button;
  return (
    <Stack gap={4}>
      {button}
      <Text size="xs" c="dimmed">
        {disabled}
      </Text>
    </Stack>
  );
}
