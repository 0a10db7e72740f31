// Create a workspace (tenant) and its owner account.
import { Anchor, Button, PasswordInput, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { Link, Navigate, useNavigate } from 'react-router';
import { useMutation } from 'urql';
import { z } from 'zod';
import { ErrorAlert } from '../components/ErrorAlert';
import { useAuth } from './AuthProvider';
import { AuthLayout } from './AuthLayout';
import { SignUpDocument } from './documents';
import { email, newPassword } from './schemas';

const schema = z.object({
  email,
  password: newPassword,
  tenantName: z.string().trim().min(1, 'Name your workspace').max(100, 'At most 100 characters'),
});

export function SignUp() {
  const { status, signedIn } = useAuth();
  const navigate = useNavigate();
  const [result, signUp] = useMutation(SignUpDocument);
  const form = useForm({
    mode: 'uncontrolled',
    initialValues: { email: '', password: '', tenantName: '' },
    validate: zod4Resolver(schema),
  });
  if (status === 'signedIn' && !result.data) return <Navigate to="/" replace />;
  return (
    <AuthLayout
      title="Create your workspace"
      subtitle={
        <>
          Already have an account? <Anchor component={Link} to="/auth/sign-in">Sign in</Anchor>
        </>
      }
    >
      <form
        noValidate
        onSubmit={form.onSubmit(async (values) => {
          const r = await signUp({
            input: { email: values.email.trim(), password: values.password, tenantName: values.tenantName.trim() },
          });
          if (r.data) {
            signedIn(r.data.signUp.accessToken);
            navigate('/', { replace: true });
          }
        })}
      >
        <Stack gap="sm">
          <TextInput label="Workspace name" placeholder="Acme Inc." required key={form.key('tenantName')} {...form.getInputProps('tenantName')} />
          <TextInput label="Email" type="email" autoComplete="email" required key={form.key('email')} {...form.getInputProps('email')} />
          <PasswordInput
            label="Password"
            description="At least 10 characters, hard to guess"
            autoComplete="new-password"
            required
            key={form.key('password')}
            {...form.getInputProps('password')}
          />
          {result.error && <ErrorAlert error={result.error} />}
          <Button type="submit" loading={result.fetching} fullWidth>
            Create workspace
          </Button>
        </Stack>
      </form>
    </AuthLayout>
  );
}
