// A platform admin's "Purge now" on a tenant's admin page: every row of it, its Stripe
// customer and the people who belong to no other workspace are erased at once (the
// tenant's name typed to confirm); its tombstone remains. Then back to the tenant list.
import { Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { useMutation } from 'urql';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PurgeTenantDocument } from './documents';

export function PurgeButton({ tenant }: { tenant: { id: string; name: string } }) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [state, purge] = useMutation(PurgeTenantDocument);
  const navigate = useNavigate();
  return (
    <>
      <Button color="red.9" variant="outline" onClick={() => setOpen(true)}>
        Purge now…
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title={`Purge ${tenant.name}?`} closeButtonProps={{ 'aria-label': 'Close' }}>
        <form
          noValidate
          onSubmit={async (event) => {
            event.preventDefault();
            const r = await purge({ id: tenant.id });
            if (r.error || !r.data) return;
            const done = r.data.purgeTenant;
            notifications.show({
              color: 'green',
              title: `${tenant.name} is purged`,
              message: `${done.rowsDeleted} rows and ${done.peopleErased} people erased; its tombstone remains.`,
            });
            setOpen(false);
            navigate('/admin');
          }}
        >
          <Stack gap="sm">
            <Text size="sm">
              Everything of this workspace is erased now, without a grace period: its members who belong nowhere else,
              keys, usage, the audit trail and its Stripe customer. This cannot be undone.
            </Text>
            <TextInput
              label={`Type the workspace's name, ${tenant.name}, to confirm`}
              required
              autoComplete="off"
              data-autofocus
              value={typed}
              onChange={(e) => setTyped(e.currentTarget.value)}
            />
            {state.error && <ErrorAlert error={state.error} title="Not purged" />}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setOpen(false)}>
                Cancel
              </Button>
              <Button type="submit" color="red.9" loading={state.fetching} disabled={typed.trim() !== tenant.name}>
                Purge now
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </>
  );
}
