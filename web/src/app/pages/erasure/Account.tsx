// "Delete my account", on the account page (pages/account). Deleting needs a sign-in of
// the last 5 minutes (the dialog signs in again when the server asks) and is refused while
// the person is the last owner of a workspace (the server names them: make someone else
// owner there, or delete the workspace, first).
import { Anchor, Button, Card, Group, List, Modal, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { Link } from 'react-router';
import { useMutation } from 'urql';
import { toAppError } from '../../../graphql/errors';
import { useAuth } from '../../auth/AuthProvider';
import { ErrorAlert } from '../../components/ErrorAlert';
import { DeleteMyAccountDocument } from './documents';
import { Reauthenticate } from './Reauthenticate';

/** The "Delete my account" card of the account page (with its dialog). */
export function DeleteMyAccountCard({ email, tenantId }: { email: string; tenantId: string | null }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Card withBorder style={{ borderColor: 'var(--mantine-color-red-4)' }} data-testid="account-danger-zone">
        <Title order={2} size="h4" mb={4} c="red.8">
          Delete my account
        </Title>
        <Text size="sm" mb="sm">
          You leave every workspace (the API keys you made are revoked), you are signed out everywhere and your account
          is erased. Audit trails keep what you did under an anonymous id, without your email. This cannot be undone.
        </Text>
        <Group>
          <Button color="red" variant="outline" onClick={() => setOpen(true)}>
            Delete my account…
          </Button>
        </Group>
      </Card>
      {open && <DeleteAccountDialog email={email} tenantId={tenantId} onClose={() => setOpen(false)} />}
    </>
  );
}

function DeleteAccountDialog({ email, tenantId, onClose }: { email: string; tenantId: string | null; onClose: () => void }) {
  const auth = useAuth();
  const [typed, setTyped] = useState('');
  const [failure, setFailure] = useState<unknown>(null);
  const [reauth, setReauth] = useState(false);
  const [state, deleteMe] = useMutation(DeleteMyAccountDocument);
  const failed = failure != null ? toAppError(failure) : null;
  const lastOwned = Array.isArray(failed?.extensions.tenants)
    ? (failed.extensions.tenants as { id: string; name: string; slug: string }[])
    : [];

  async function submit() {
    setFailure(null);
    const r = await deleteMe({});
    if (r.error) {
      if (toAppError(r.error).code === 'REAUTHENTICATION_REQUIRED') setReauth(true);
      else setFailure(r.error);
      return;
    }
    await auth.signOut('Your account was deleted. Thank you for using tenantgate.');
  }

  return (
    <Modal opened onClose={onClose} title="Delete your account?" closeButtonProps={{ 'aria-label': 'Close' }}>
      {reauth ? (
        <Reauthenticate
          email={email}
          tenantId={tenantId}
          action="deleting your account"
          onCancel={onClose}
          onDone={() => {
            setReauth(false);
            void submit();
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
            <TextInput
              label={`Type your email, ${email}, to confirm`}
              required
              autoComplete="off"
              data-autofocus
              value={typed}
              onChange={(e) => setTyped(e.currentTarget.value)}
            />
            {failed && <ErrorAlert error={failure} />}
            {lastOwned.length > 0 && (
              <Stack gap={4} data-testid="last-owned">
                <Text size="sm">Make someone else owner of these, or delete them, first:</Text>
                <List size="sm">
                  {lastOwned.map((t) => (
                    <List.Item key={t.id}>
                      {t.name} ({t.slug}) —{' '}
                      <Anchor component={Link} to="/team" size="sm" onClick={onClose}>
                        its team
                      </Anchor>
                    </List.Item>
                  ))}
                </List>
              </Stack>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={onClose}>
                Cancel
              </Button>
              <Button type="submit" color="red" loading={state.fetching} disabled={typed.trim().toLowerCase() !== email}>
                Delete my account
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
