// Accepting an invitation from its link: with the account already signed in, or by
// choosing a password for a new account of the invited address.
import { Alert, Anchor, Button, PasswordInput, Stack, Text } from '@mantine/core';
import { useForm } from '@mantine/form';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { Link, useNavigate } from 'react-router';
import { useMutation } from 'urql';
import { z } from 'zod';
import { ErrorAlert } from '../components/ErrorAlert';
import { useAuth } from './AuthProvider';
import { AuthLayout } from './AuthLayout';
import { AcceptInvitationDocument } from './documents';
import { useLinkToken } from './links';
import { newPassword } from './schemas';

export function AcceptInvitation() {
  const token = useLinkToken({ keep: true });
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
                <Anchor component={Link} to={`/auth/sign-in?next=${encodeURIComponent(`/auth/accept-invitation?token=${token}`)}`}>
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
