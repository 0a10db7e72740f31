// The pages email links open: a sign-in link, a password reset, an email confirmation,
// and the request for a reset. Each link's token is used once, even under React's
// development double effects, and is removed from the address bar.
import { Alert, Anchor, Button, PasswordInput, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useMutation } from 'urql';
import { z } from 'zod';
import { ErrorAlert } from '../components/ErrorAlert';
import { Loading } from '../components/PageState';
import { useAuth } from './AuthProvider';
import { AuthLayout } from './AuthLayout';
import { RequestPasswordResetDocument, ResetPasswordDocument, VerifyEmailDocument, VerifyMagicLinkDocument } from './documents';
import { email, newPassword } from './schemas';

/** The link's token, read once; the address bar loses it so it is not kept in history. */
export function useLinkToken({ keep = false }: { keep?: boolean } = {}): string | null {
  const [params] = useSearchParams();
  const [token] = useState(() => params.get('token'));
  useEffect(() => {
    if (!keep && params.has('token')) window.history.replaceState(null, '', window.location.pathname);
  }, [params, keep]);
  return token;
}

function MissingToken() {
  return (
    <Alert color="red" role="alert" title="This link is incomplete">
      Open the link from the email again, or ask for a new one.
    </Alert>
  );
}

export function MagicLink() {
  const token = useLinkToken();
  const { signedIn, status } = useAuth();
  const navigate = useNavigate();
  const [result, verify] = useMutation(VerifyMagicLinkDocument);
  const started = useRef(false);
  useEffect(() => {
    // Not while this tab still asks the refresh cookie who it is: that answer,
    // arriving after the link's, would set the cookie back to the previous
    // person (the later Set-Cookie wins), and every tab would follow them.
    if (!token || started.current || status === 'booting') return;
    started.current = true;
    void verify({ token }).then((r) => {
      if (r.data) {
        signedIn(r.data.verifyMagicLink.accessToken);
        navigate('/', { replace: true });
      }
    });
  }, [token, verify, signedIn, navigate, status]);
  return (
    <AuthLayout title="Signing you in">
      {!token ? (
        <MissingToken />
      ) : result.error ? (
        <Stack gap="sm">
          <ErrorAlert error={result.error} />
          <Anchor component={Link} to="/auth/sign-in">
            Ask for a new link
          </Anchor>
        </Stack>
      ) : (
        <Loading label="Checking your link…" />
      )}
    </AuthLayout>
  );
}

export function ForgotPassword() {
  const [result, request] = useMutation(RequestPasswordResetDocument);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const form = useForm({ mode: 'uncontrolled', initialValues: { email: '' }, validate: zod4Resolver(z.object({ email })) });
  return (
    <AuthLayout title="Reset your password" subtitle="We email you a link to choose a new one.">
      {sentTo ? (
        <Alert color="green" variant="light" title="Check your inbox" role="status">
          If {sentTo} has an account, a reset link is on its way.
        </Alert>
      ) : (
        <form
          noValidate
          onSubmit={form.onSubmit(async (v) => {
            const r = await request({ email: v.email.trim() });
            if (r.data) setSentTo(v.email.trim());
          })}
        >
          <Stack gap="sm">
            <TextInput label="Email" type="email" autoComplete="email" required key={form.key('email')} {...form.getInputProps('email')} />
            {result.error && <ErrorAlert error={result.error} />}
            <Button type="submit" loading={result.fetching} fullWidth>
              Email me a reset link
            </Button>
          </Stack>
        </form>
      )}
      <Anchor component={Link} to="/auth/sign-in" size="sm">
        Back to sign in
      </Anchor>
    </AuthLayout>
  );
}

export function ResetPassword() {
  const token = useLinkToken();
  const { signedIn } = useAuth();
  const navigate = useNavigate();
  const [result, reset] = useMutation(ResetPasswordDocument);
  const form = useForm({
    mode: 'uncontrolled',
    initialValues: { password: '', confirm: '' },
    validate: zod4Resolver(
      z.object({ password: newPassword, confirm: z.string() }).refine((v) => v.password === v.confirm, {
        message: 'The passwords differ',
        path: ['confirm'],
      }),
    ),
  });
  return (
    <AuthLayout title="Choose a new password" subtitle="Every other session of your account ends.">
      {!token ? (
        <MissingToken />
      ) : (
        <form
          noValidate
          onSubmit={form.onSubmit(async (v) => {
            const r = await reset({ token, newPassword: v.password });
            if (r.data) {
              signedIn(r.data.resetPassword.accessToken);
              navigate('/', { replace: true });
            }
          })}
        >
          <Stack gap="sm">
            <PasswordInput label="New password" autoComplete="new-password" required key={form.key('password')} {...form.getInputProps('password')} />
            <PasswordInput label="Repeat it" autoComplete="new-password" required key={form.key('confirm')} {...form.getInputProps('confirm')} />
            {result.error && <ErrorAlert error={result.error} />}
            <Button type="submit" loading={result.fetching} fullWidth>
              Set password and sign in
            </Button>
          </Stack>
        </form>
      )}
    </AuthLayout>
  );
}

export function VerifyEmail() {
  const token = useLinkToken();
  const [result, verify] = useMutation(VerifyEmailDocument);
  const started = useRef(false);
  useEffect(() => {
    if (!token || started.current) return;
    started.current = true;
    void verify({ token });
  }, [token, verify]);
  return (
    <AuthLayout title="Confirm your email">
      {!token ? (
        <MissingToken />
      ) : result.error ? (
        <ErrorAlert error={result.error} />
      ) : result.data ? (
        <Alert color="green" variant="light" role="status" title="Email confirmed">
          {result.data.verifyEmail.email} is confirmed.
        </Alert>
      ) : (
        <Loading label="Confirming…" />
      )}
      <Anchor component={Link} to="/">
        Go to your workspace
      </Anchor>
    </AuthLayout>
  );
}
