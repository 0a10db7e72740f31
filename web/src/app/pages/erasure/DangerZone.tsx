// The settings page's danger zone (owners): delete the workspace. The owner types the
// workspace's slug to confirm; when their sign-in is older than 5 minutes the server says
// REAUTHENTICATION_REQUIRED and the dialog asks for the password, signs in again and
// retries. The workspace then waits out its grace period (the Shell's DeletionBanner says
// until when, and owners can cancel there).
import { Alert, Button, Card, Group, Modal, Stack, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { toAppError } from '../../../graphql/errors';
import { formatDateTime } from '../../format';
import { useAuth } from '../../auth/AuthProvider';
import { permissions, ViewerDocument } from '../../auth/viewer';
import { ErrorAlert } from '../../components/ErrorAlert';
import { DeleteTenantDocument } from './documents';
import { Reauthenticate } from './Reauthenticate';

export function DangerZone() {
  const [viewer] = useQuery({ query: ViewerDocument });
  const v = viewer.data?.viewer;
  const [open, setOpen] = useState(false);
  if (!v?.tenant || !permissions(v.role).deleteWorkspace) return null;
  const pending = v.tenant.status === 'PENDING_DELETION';
  return (
    <Card withBorder style={{ borderColor: 'var(--mantine-color-red-4)' }} data-testid="danger-zone">
      <Title order={2} size="h4" mb={4} c="red.8">
        Danger zone
      </Title>
      <Text size="sm" mb="sm">
        Deleting the workspace stops its API keys at once. Its members can still read and export its data for a grace
        period (14 days by default), and an owner can cancel; then everything is erased for good: members who belong to no other workspace, keys,
        usage, the audit trail and the Stripe subscription.
      </Text>
      {pending ? (
        <Alert color="orange" title="Deletion scheduled">
          This workspace is already scheduled for deletion; cancel it from the banner at the top.
        </Alert>
      ) : (
        <Group>
          <Button color="red" variant="outline" onClick={() => setOpen(true)}>
            Delete workspace…
          </Button>
        </Group>
      )}
      {open && (
        <DeleteDialog
          slug={v.tenant.slug}
          name={v.tenant.name}
          email={v.user.email}
          tenantId={v.tenant.id}
          onClose={() => setOpen(false)}
        />
      )}
    </Card>
  );
}

function DeleteDialog({
  slug,
  name,
  email,
  tenantId,
  onClose,
}: {
  slug: string;
  name: string;
  email: string;
  tenantId: string;
  onClose: () => void;
}) {
  const auth = useAuth();
  const [typed, setTyped] = useState('');
  const [failure, setFailure] = useState<unknown>(null);
  const [reauth, setReauth] = useState(false);
  const [state, deleteTenant] = useMutation(DeleteTenantDocument);

  async function submit(): Promise<boolean> {
    setFailure(null);
    const r = await deleteTenant({ confirmSlug: typed.trim() });
    if (r.error) {
      if (toAppError(r.error).code === 'REAUTHENTICATION_REQUIRED') {
        setReauth(true);
      } else {
        setFailure(r.error);
      }
      return false;
    }
    const when = r.data?.deleteTenant.deletion?.purgeAfter;
    notifications.show({
      color: 'orange',
      title: 'Workspace scheduled for deletion',
      message: `${name} will be erased on ${formatDateTime(when)}. An owner can cancel until then.`,
    });
    onClose();
    return true;
  }

  return (
    <Modal opened onClose={onClose} title={`Delete ${name}?`} closeButtonProps={{ 'aria-label': 'Close' }}>
      {reauth ? (
        <Reauthenticate
          email={email}
          tenantId={tenantId}
          action="deleting a workspace"
          onCancel={onClose}
          onDone={async (token) => {
            setReauth(false);
            const done = await submit();
            // A new client for the new sign-in (the other tabs follow it).
            if (done) auth.signedIn(token);
          }}
        />
      ) : (
        <form
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            void submit();
          }}
        >
          <Stack gap="sm">
            <Text size="sm">
              Its API keys stop working at once. When the grace period ends everything in it is erased and cannot be recovered.
            </Text>
            <TextInput
              label={`Type the workspace's slug, ${slug}, to confirm`}
              required
              autoComplete="off"
              data-autofocus
              value={typed}
              onChange={(e) => setTyped(e.currentTarget.value)}
              error={
                failure != null && toAppError(failure).extensions.field === 'confirmSlug'
                  ? toAppError(failure).message
                  : undefined
              }
            />
            {failure != null && toAppError(failure).extensions.field !== 'confirmSlug' && <ErrorAlert error={failure} />}
            <Group justify="flex-end">
              <Button variant="default" onClick={onClose}>
                Cancel
              </Button>
              <Button type="submit" color="red" loading={state.fetching} disabled={typed.trim() !== slug}>
                Delete workspace
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
