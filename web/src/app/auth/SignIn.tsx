// Sign in with a password, or ask for a sign-in link by email.
import { Alert, Anchor, Button, Group, PasswordInput, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useState } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { useMutation } from 'urql';
import { z } from 'zod';
import { ErrorAlert } from '../components/ErrorAlert';
import { useAuth } from './AuthProvider';
import { AuthLayout } from './AuthLayout';
import { LogInDocument, RequestMagicLinkDocument } from './documents';
import { email, password } from './schemas';

/** Where to go after signing in: only paths of this app. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return '/';
  // Signed-in users may come back to an invitation; no other signed-out page.
  if (next.startsWith('/auth/') && next !== '/auth/accept-invitation') return '/';
  return next;
}

export function SignIn() {
  const { status, notice, signedIn } = useAuth();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [mode, setMode] = useState<'password' | 'link'>('password');
  const [login, logIn] = useMutation(LogInDocument);
  const [link, requestLink] = useMutation(RequestMagicLinkDocument);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const next = safeNext(params.get('next'));

  const pw = useForm({
    mode: 'uncontrolled',
    initialValues: { email: '', password: '' },
    validate: zod4Resolver(z.object({ email, password })),
  });
  const ml = useForm({
    mode: 'uncontrolled',
    initialValues: { email: '' },
    validate: zod4Resolver(z.object({ email })),
  });

  if (status === 'signedIn') return <Navigate to={next} replace />;

  return (
    <AuthLayout title="Sign in" subtitle={<>New here? <Anchor component={Link} to="/auth/sign-up">Create a workspace</Anchor></>}>
      {notice && (
        <Alert color="blue" variant="light">
          {notice}
        </Alert>
      )}
      <SegmentedControl
        fullWidth
        value={mode}
        onChange={(v) => setMode(v as 'password' | 'link')}
        data={[
          { value: 'password', label: 'With a password' },
          { value: 'link', label: 'With an email link' },
        ]}
        aria-label="How to sign in"
      />
      {mode === 'password' ? (
        <form
          noValidate
          onSubmit={pw.onSubmit(async (values) => {
            const r = await logIn({ input: { email: values.email.trim(), password: values.password } });
            if (r.data) {
              signedIn(r.data.logIn.accessToken);
              navigate(next, { replace: true });
            }
          })}
        >
          <Stack gap="sm">
            <TextInput label="Email" type="email" autoComplete="email" required key={pw.key('email')} {...pw.getInputProps('email')} />
            <PasswordInput label="Password" autoComplete="current-password" required key={pw.key('password')} {...pw.getInputProps('password')} />
            {login.error && <ErrorAlert error={login.error} />}
            <Button type="submit" loading={login.fetching} fullWidth>
              Sign in
            </Button>
            <Group justify="space-between">
              <Anchor component={Link} to="/auth/forgot-password" size="sm">
                Forgot your password?
              </Anchor>
            </Group>
          </Stack>
        </form>
      ) : sentTo ? (
        <Alert color="green" variant="light" title="Check your inbox" role="status">
          If {sentTo} has an account, a sign-in link is on its way. It works once, for 15 minutes.
        </Alert>
      ) : (
        <form
          noValidate
          onSubmit={ml.onSubmit(async (values) => {
            const r = await requestLink({ email: values.email.trim() });
            if (r.data) setSentTo(values.email.trim());
          })}
        >
          <Stack gap="sm">
            <TextInput label="Email" type="email" autoComplete="email" required key={ml.key('email')} {...ml.getInputProps('email')} />
            {link.error && <ErrorAlert error={link.error} />}
            <Button type="submit" loading={link.fetching} fullWidth>
              Email me a sign-in link
            </Button>
            <Text size="xs" c="dimmed">
              No password needed: the link signs you in.
            </Text>
          </Stack>
        </form>
      )}
    </AuthLayout>
  );
}
