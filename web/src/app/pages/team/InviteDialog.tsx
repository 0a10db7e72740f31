// Inviting someone: their email and a role, chosen among those the inviter may grant.
import { Button, Group, Modal, Radio, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useMutation } from 'urql';
import { z } from 'zod';
import type { Role } from '../../../gql/graphql';
import { ErrorAlert } from '../../components/ErrorAlert';
import { email } from '../../auth/schemas';
import { InviteMemberDocument } from './documents';
import { ROLE_HELP, ROLE_LABEL } from './roles';

export function InviteDialog({
  opened,
  onClose,
  grantable,
  emailVerified,
  onInvited,
}: {
  opened: boolean;
  onClose: () => void;
  grantable: Role[];
  emailVerified: boolean;
  onInvited: () => void;
}) {
  const [result, invite] = useMutation(InviteMemberDocument);
  const initialRole: Role = grantable.includes('MEMBER') ? 'MEMBER' : (grantable[grantable.length - 1] ?? 'VIEWER');
  const form = useForm({
    mode: 'uncontrolled',
    initialValues: { email: '', role: initialRole as string },
    validate: zod4Resolver(
      z.object({
        email,
        role: z.string().refine((r) => grantable.includes(r as Role), 'Choose a role you may grant'),
      }),
    ),
  });
  return (
    <Modal opened={opened} onClose={onClose} title="Invite a member" centered closeButtonProps={{ 'aria-label': 'Close' }}>
      <form
        noValidate
        onSubmit={form.onSubmit(async (v) => {
          const r = await invite({ input: { email: v.email.trim(), role: v.role as Role } });
          if (r.data) {
            notifications.show({
              color: 'green',
              title: 'Invitation sent',
              message: `${r.data.inviteMember.email} can join within 7 days.`,
            });
            form.reset();
            onInvited();
            onClose();
          } else if (r.error) {
            const field = r.error.graphQLErrors[0]?.extensions?.field;
            if (field === 'email') form.setFieldError('email', r.error.graphQLErrors[0]!.message);
          }
        })}
      >
        <Stack gap="md">
          {!emailVerified && (
            <Text size="sm" c="dimmed">
              Confirm your own email address first: the server refuses invitations until you do.
            </Text>
          )}
          <TextInput
            label="Email"
            type="email"
            autoComplete="off"
            required
            data-autofocus
            key={form.key('email')}
            {...form.getInputProps('email')}
          />
          <Radio.Group label="Role" required key={form.key('role')} {...form.getInputProps('role')}>
            <Stack gap="xs" mt="xs">
              {grantable.map((r) => (
                <Radio key={r} value={r} label={ROLE_LABEL[r]} description={ROLE_HELP[r]} />
              ))}
            </Stack>
          </Radio.Group>
          {result.error && <ErrorAlert error={result.error} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={result.fetching}>
              Send invitation
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
