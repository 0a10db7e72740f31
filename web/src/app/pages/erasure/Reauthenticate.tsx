// Signing in again inside a dialog, when the server answers REAUTHENTICATION_REQUIRED
// (deleting a workspace or an account needs a sign-in of the last 5 minutes). The new
// access token replaces the old one at once, so the caller can retry its mutation; the
// caller then tells the AuthProvider (a new client, the other tabs follow).
import { Button, Group, PasswordInput, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { useMutation } from 'urql';
import { setToken } from '../../../graphql/session';
import { ErrorAlert } from '../../components/ErrorAlert';
import { ReauthenticateDocument } from './documents';

export function Reauthenticate({
  email,
  tenantId,
  action,
  onDone,
  onCancel,
}: {
  email: string;
  tenantId: string | null;
  action: string;
  onDone: (accessToken: string) => void;
  onCancel: () => void;
}) {
  const [password, setPassword] = useState('');
  const [failure, setFailure] = useState<unknown>(null);
  const [state, logIn] = useMutation(ReauthenticateDocument);
  return (
    <form
      noValidate
      onSubmit={async (event) => {
        event.preventDefault();
        setFailure(null);
        const r = await logIn({ input: { email, password, tenantId } });
        if (r.error) {
          setFailure(r.error);
          return;
        }
        if (r.data) {
          setToken(r.data.logIn.accessToken);
          onDone(r.data.logIn.accessToken);
        }
      }}
    >
      <Stack gap="sm" data-testid="reauthenticate">
        <Text size="sm">
          For your security, {action} needs a sign-in of the last 5 minutes. Enter the password of{' '}
          <strong>{email}</strong> to continue. (Signed in with an email link? Sign out and sign in again with a new link,
          then come back.)
        </Text>
        <PasswordInput
          label="Password"
          required
          autoComplete="current-password"
          data-autofocus
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
        />
        {failure != null && <ErrorAlert error={failure} />}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" color="red" loading={state.fetching} disabled={!password}>
            Sign in and continue
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
