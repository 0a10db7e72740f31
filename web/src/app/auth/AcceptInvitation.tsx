// Accepting an invitation from its link: with the account already signed in, or by
// choosing a password for a new account of the invited address.
import { Alert, Anchor, Button, PasswordInput, Stack, Text } from '@mantine/core';
import { useForm } from '@mantine/form';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useEffect } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation } from 'urql';
import { z } from 'zod';
import { ErrorAlert } from '../components/ErrorAlert';
import { useAuth } from './AuthProvider';
import { AuthLayout } from './AuthLayout';
import { AcceptInvitationDocument } from './documents';
import { useLinkToken } from './links';

const PENDING = 'tenantgate.invitation';

function pendingInvitation(): string | null {
  try {
    return sessionStorage.getItem(PENDING);
  } catch {
    return null;
  }
}

function rememberInvitation(token: string | null) {
  try {
    if (token) sessionStorage.setItem(PENDING, token);
    else sessionStorage.removeItem(PENDING);
  } catch {
    /* storage disabled: the link has to be opened again after signing in */
  }
}
import { newPassword } from './schemas';

export function AcceptInvitation() {
  // The token leaves the address bar at once; it waits in this tab's sessionStorage while
  // the invited person signs in first, and is dropped once used.
  const fromLink = useLinkToken();
  const token = fromLink ?? pendingInvitation();
  useEffect(() => {
    if (fromLink) rememberInvitation(fromLink);
  }, [fromLink]);
  const { status, signedIn } = useAuth();
  const navigate = useNavigate();
  const [result, accept] = useMutation(AcceptInvitationDocument);
  const form = useForm({
    mode: 'uncontrolled',
    initialValues: { password: '' },
    validate: zod4Resolver(z.object({ password: z.union([z.literal(''), newPassword]) })),
  });
  return (
    <AuthLayout title="Join the workspace" subtitle="You were invited by email.">
      {!token ? (
        <Alert color="red" role="alert" title="This link is incomplete">
          Open the invitation email again, or ask for a new invitation.
        </Alert>
      ) : (
        <form
          noValidate
          onSubmit={form.onSubmit(async (v) => {
            const r = await accept({ input: { token, ...(v.password ? { password: v.password } : {}) } });
            if (r.data) {
              rememberInvitation(null);
              signedIn(r.data.acceptInvitation.accessToken);
              navigate('/', { replace: true });
            }
          })}
        >
          <Stack gap="sm">
            {status === 'signedIn' ? (
              <Text size="sm">You are signed in: accepting adds this workspace to your account when the invitation is for your address.</Text>
            ) : (
              <PasswordInput
                label="Choose a password"
                description="For a new account (at least 10 characters). Leave empty if your account has one."
                autoComplete="new-password"
                key={form.key('password')}
                {...form.getInputProps('password')}
              />
            )}
            {result.error && <ErrorAlert error={result.error} />}
            {status !== 'signedIn' && (
              <Text size="sm">
                Already have an account?{' '}
                <Anchor component={Link} to={`/auth/sign-in?next=${encodeURIComponent('/auth/accept-invitation')}`}>
                  Sign in to accept
                </Anchor>
              </Text>
            )}
            <Button type="submit" loading={result.fetching} fullWidth>
              Accept invitation
            </Button>
          </Stack>
        </form>
      )}
    </AuthLayout>
  );
}
