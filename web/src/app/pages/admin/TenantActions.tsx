// A tenant's admin actions: suspend (with a required reason the tenant's users are shown),
// reactivate, and change the plan (CONFLICT while a Stripe subscription owns it: the
// server's message is shown as it is).
import { Button, Card, Group, Select, Stack, Text, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useState } from 'react';
import { useMutation } from 'urql';
import { z } from 'zod';
import type { TenantStatus } from '../../../gql/graphql';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PurgeButton } from '../erasure/PurgeButton';
import { ReactivateTenantDocument, SetTenantPlanDocument, SuspendTenantDocument } from './documents';

const suspendSchema = z.object({
  reason: z.string().trim().min(1, 'Give a reason: the tenant’s users are shown it').max(500, 'At most 500 characters'),
});

function SuspendForm({ id, name, onDone }: { id: string; name: string; onDone: () => void }) {
  const [state, suspend] = useMutation(SuspendTenantDocument);
  const form = useForm({ mode: 'uncontrolled', initialValues: { reason: '' }, validate: zod4Resolver(suspendSchema) });
  return (
    <form
      onSubmit={form.onSubmit(async ({ reason }) => {
        const r = await suspend({ id, reason: reason.trim() });
        if (!r.error) {
          notifications.show({ color: 'orange', message: `${name} is suspended.` });
          modals.closeAll();
          onDone();
        }
      })}
      noValidate
    >
      <Stack gap="sm">
        <Text size="sm">
          Its members and API keys are refused until it is reactivated. They are shown the reason.
        </Text>
        <Textarea
          label="Reason"
          description="Shown to the tenant's users (1 to 500 characters)"
          required
          autosize
          minRows={2}
          maxLength={500}
          data-autofocus
          key={form.key('reason')}
          {...form.getInputProps('reason')}
        />
        {state.error && <ErrorAlert error={state.error} />}
        <Group justify="flex-end">
          <Button variant="default" onClick={() => modals.closeAll()}>
            Cancel
          </Button>
          <Button type="submit" color="red.9" loading={state.fetching}>
            Suspend
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function TenantActions({
  tenant,
  plans,
  onChanged,
}: {
  tenant: { id: string; name: string; status: TenantStatus; planKey: string };
  plans: { key: string; name: string }[];
  onChanged: () => void;
}) {
  const [reactivateState, reactivate] = useMutation(ReactivateTenantDocument);
  const [planState, setPlan] = useMutation(SetTenantPlanDocument);
  const [plan, setPlanChoice] = useState<string | null>(tenant.planKey);

  function openSuspend() {
    modals.open({
      title: `Suspend ${tenant.name}`,
      children: <SuspendForm id={tenant.id} name={tenant.name} onDone={onChanged} />,
    });
  }

  function openReactivate() {
    modals.openConfirmModal({
      title: `Reactivate ${tenant.name}`,
      children: <Text size="sm">Its members and API keys work again at once.</Text>,
      labels: { confirm: 'Reactivate', cancel: 'Cancel' },
      onConfirm: async () => {
        const r = await reactivate({ id: tenant.id });
        if (!r.error) {
          notifications.show({ color: 'green', message: `${tenant.name} is active again.` });
          onChanged();
        }
      },
    });
  }

  function openPlanChange() {
    const chosen = plans.find((p) => p.key === plan);
    if (!chosen) return;
    modals.openConfirmModal({
      title: `Move ${tenant.name} to ${chosen.name}`,
      children: (
        <Text size="sm">
          The plan's limits apply at once. A downgrade deletes nothing: what is over the new limits keeps working, new
          additions are refused.
        </Text>
      ),
      labels: { confirm: 'Change plan', cancel: 'Cancel' },
      onConfirm: async () => {
        const r = await setPlan({ tenantId: tenant.id, planKey: chosen.key });
        if (!r.error) {
          notifications.show({ color: 'green', message: `${tenant.name} is on ${chosen.name} now.` });
          onChanged();
        }
      },
    });
  }

  return (
    <Card withBorder>
      <Stack gap="sm">
        <Text fw={600}>Actions</Text>
        <Group gap="sm" align="flex-end" wrap="wrap">
          {tenant.status === 'SUSPENDED' ? (
            <Button color="green.9" onClick={openReactivate} loading={reactivateState.fetching}>
              Reactivate tenant
            </Button>
          ) : tenant.status === 'PENDING_DELETION' ? (
            <Text size="sm">Scheduled for deletion by an owner: they can cancel until the purge.</Text>
          ) : (
            <Button color="red.9" variant="outline" onClick={openSuspend}>
              Suspend tenant
            </Button>
          )}
          <PurgeButton tenant={tenant} />
        </Group>
        {reactivateState.error && <ErrorAlert error={reactivateState.error} />}
        <Group gap="sm" align="flex-end" wrap="wrap">
          <Select
            label="Plan"
            data={plans.map((p) => ({ value: p.key, label: p.name }))}
            value={plan}
            onChange={setPlanChoice}
            allowDeselect={false}
            w={{ base: '100%', xs: 200 }}
          />
          <Button variant="default" disabled={!plan || plan === tenant.planKey} onClick={openPlanChange}>
            Change plan
          </Button>
        </Group>
        {planState.error && <ErrorAlert error={planState.error} title="The plan was not changed" />}
      </Stack>
    </Card>
  );
}
