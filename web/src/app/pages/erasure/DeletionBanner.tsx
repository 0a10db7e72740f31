// The banner every page of a workspace scheduled for deletion shows (the Shell renders
// it): when it will be erased, that its API keys are refused and its data can still be
// read and exported, and for owners a "Cancel deletion" button.
import { Alert, Button, Group, Text } from '@mantine/core';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery } from 'urql';
import type { Role } from '../../../gql/graphql';
import { toAppError } from '../../../graphql/errors';
import { formatDateTime } from '../../format';
import { permissions } from '../../auth/viewer';
import { CancelTenantDeletionDocument, TenantDeletionDocument } from './documents';

export function DeletionBanner({ role }: { role: Role | null }) {
  const [result] = useQuery({ query: TenantDeletionDocument });
  const [cancelState, cancel] = useMutation(CancelTenantDeletionDocument);
  const tenant = result.data?.tenant;
  const deletion = tenant?.deletion;
  if (!tenant || !deletion) return null;
  const owner = permissions(role).deleteWorkspace;
  const confirm = () =>
    modals.openConfirmModal({
      title: `Keep ${tenant.name}?`,
      children: (
        <Text size="sm">The deletion is cancelled: everything stays as it was and its API keys work again.</Text>
      ),
      labels: { confirm: 'Cancel deletion', cancel: 'Back' },
      closeButtonProps: { 'aria-label': 'Close' },
      onConfirm: async () => {
        const r = await cancel({});
        if (r.error) {
          const e = toAppError(r.error);
          notifications.show({ color: 'red', title: `Not cancelled (${e.code})`, message: e.message });
          return;
        }
        notifications.show({ color: 'green', title: 'Deletion cancelled', message: `${tenant.name} stays.` });
      },
    });
  return (
    <Alert color="orange" mb="md" title="This workspace is scheduled for deletion" role="alert" data-testid="deletion-banner">
      <Text size="sm">
        Everything in {tenant.name} will be erased on <strong>{formatDateTime(deletion.purgeAfter)}</strong>. Its API keys
        are refused and nothing can change; you can still read and export its data until then.
      </Text>
      {owner ? (
        <Group mt="xs">
          <Button size="xs" variant="default" onClick={confirm} loading={cancelState.fetching}>
            Cancel deletion
          </Button>
        </Group>
      ) : (
        <Text size="sm" mt={4}>
          Only an owner can cancel the deletion.
        </Text>
      )}
    </Alert>
  );
}
