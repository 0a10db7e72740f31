// The Team page: members and their roles, pending invitations, and what the signed-in
// member's role lets them do about them (invite, resend, revoke, change roles, remove,
// leave). Buttons appear only when the role allows them; the server decides anyway, and
// a refusal shows its message and code.
import { Alert, Badge, Button, Card, Group, Menu, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import type { Role } from '../../../gql/graphql';
import { useAuth } from '../../auth/AuthProvider';
import { permissions, roleRank, ViewerDocument } from '../../auth/viewer';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageHeader } from '../../components/PageHeader';
import { Empty, QueryState } from '../../components/PageState';
import {
  LeaveTenantDocument,
  RemoveMemberDocument,
  ResendInvitationDocument,
  RevokeInvitationDocument,
  TeamInvitationsDocument,
  TeamMembersDocument,
  UpdateMemberRoleDocument,
} from './documents';
import { InviteDialog } from './InviteDialog';
import { Pager, usePages } from './Pager';
import { formatDate } from '../../format';
import { ROLE_COLOR, ROLE_LABEL } from './roles';

const PAGE_SIZE = 20;

export function Team() {
  const [viewer] = useQuery({ query: ViewerDocument });
  const v = viewer.data?.viewer;
  const role = v?.role ?? null;
  const p = permissions(role);
  const { switchTenant, signOut } = useAuth();
  const [inviteOpened, invite] = useDisclosure(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const memberPages = usePages();
  const invitationPages = usePages();

  const [members, refetchMembers] = useQuery({
    query: TeamMembersDocument,
    variables: { first: PAGE_SIZE, after: memberPages.after },
    pause: !p.readTeam,
  });
  const [invitations, refetchInvitations] = useQuery({
    query: TeamInvitationsDocument,
    variables: { first: PAGE_SIZE, after: invitationPages.after },
    pause: !p.readInvitations,
  });
  const [, updateRole] = useMutation(UpdateMemberRoleDocument);
  const [, removeMember] = useMutation(RemoveMemberDocument);
  const [, resend] = useMutation(ResendInvitationDocument);
  const [, revoke] = useMutation(RevokeInvitationDocument);
  const [leaving, leave] = useMutation(LeaveTenantDocument);

  const reloadMembers = () => refetchMembers({ requestPolicy: 'network-only' });
  const reloadInvitations = () => refetchInvitations({ requestPolicy: 'network-only' });

  /** Runs a mutation; shows its error on the page or a notification when it worked. */
  async function act(run: () => Promise<{ error?: unknown }>, success: string, after?: () => void) {
    setActionError(null);
    const r = await run();
    if (r.error) {
      setActionError(r.error);
      return false;
    }
    notifications.show({ color: 'green', message: success });
    after?.();
    return true;
  }

  const tenantName = v?.tenant?.name ?? 'this workspace';

  function confirmLeave() {
    modals.openConfirmModal({
      title: `Leave ${tenantName}?`,
      children: (
        <Text size="sm">
          You lose access to {tenantName} and the API keys you made in it are revoked. Someone with the right role has to
          invite you again to come back.
        </Text>
      ),
      labels: { confirm: 'Leave workspace', cancel: 'Stay' },
      confirmProps: { color: 'red' },
      onConfirm: async () => {
        setActionError(null);
        const r = await leave({});
        if (r.error) {
          setActionError(r.error);
          return;
        }
        notifications.show({ color: 'green', message: `You left ${tenantName}.` });
        const other = v?.memberships.find((m) => m.tenant.id !== v.tenant?.id);
        if (other) await switchTenant(other.tenant.id).catch(() => signOut(`You left ${tenantName}.`));
        else await signOut(`You left ${tenantName}. You are in no workspace now.`);
      },
    });
  }

  function confirmRemove(userId: string, email: string) {
    modals.openConfirmModal({
      title: `Remove ${email}?`,
      children: (
        <Text size="sm">
          They lose access to {tenantName} at once, and the API keys they made in it are revoked.
        </Text>
      ),
      labels: { confirm: 'Remove member', cancel: 'Cancel' },
      confirmProps: { color: 'red' },
      onConfirm: () =>
        void act(() => removeMember({ userId }), `${email} was removed from ${tenantName}.`, reloadMembers),
    });
  }

  function confirmRevoke(id: string, email: string) {
    modals.openConfirmModal({
      title: `Revoke the invitation of ${email}?`,
      children: <Text size="sm">Its link stops working. You can invite them again later.</Text>,
      labels: { confirm: 'Revoke invitation', cancel: 'Keep it' },
      confirmProps: { color: 'red' },
      onConfirm: () => void act(() => revoke({ id }), `The invitation of ${email} was revoked.`, reloadInvitations),
    });
  }

  if (viewer.error && !v) return <ErrorAlert error={viewer.error} />;
  if (v && !p.readTeam) {
    return (
      <>
        <PageHeader title="Team" />
        <Alert color="gray" title="Not available to your role">
          Billing members manage the plan and invoices; the member list is for the other roles.
        </Alert>
      </>
    );
  }

  return (
    <>
      <PageHeader
        title="Team"
        description={`Who is in ${tenantName}, and what each of them may do.`}
        example="team"
        actions={
          <>
            {p.manageTeam && <Button onClick={invite.open}>Invite member</Button>}
            {role && (
              <Button variant="default" onClick={confirmLeave} loading={leaving.fetching}>
                Leave workspace
              </Button>
            )}
          </>
        }
      />
      {actionError != null && (
        <div style={{ marginBottom: 16 }}>
          <ErrorAlert error={actionError} />
        </div>
      )}
      <Stack gap="lg">
        <Card withBorder padding="sm">
          <QueryState result={members} retry={reloadMembers}>
            {(data) => (
              <>
                <Group justify="space-between" mb="xs" px={4}>
                  <Title order={2} size="h4">
                    Members
                  </Title>
                  <Text size="sm" c="dimmed">
                    {data.tenant.memberCount} in all
                  </Text>
                </Group>
                {data.tenant.members.nodes.length === 0 ? (
                  <Empty title="No members on this page" />
                ) : (
                  <Table verticalSpacing="sm" aria-label="Members">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>Member</Table.Th>
                        <Table.Th>Role</Table.Th>
                        {p.manageTeam && (
                          <Table.Th>
                            <VisuallyHidden>Actions</VisuallyHidden>
                          </Table.Th>
                        )}
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {data.tenant.members.nodes.map((m) => {
                        const self = m.user.id === v?.user.id;
                        const manageable = p.manageTeam && !self && role !== null && roleRank(m.role) <= roleRank(role);
                        const choices = p.grantable.filter((r) => r !== m.role);
                        return (
                          <Table.Tr key={m.user.id} data-testid="member-row" data-email={m.user.email}>
                            <Table.Td>
                              <Text size="sm" fw={500} style={{ wordBreak: 'break-all' }}>
                                {m.user.email}
                                {self && (
                                  <Text span size="sm" c="dimmed" fw={400}>
                                    {' '}
                                    (you)
                                  </Text>
                                )}
                              </Text>
                              <Text size="xs" c="dimmed">
                                Joined {formatDate(m.joinedAt)}
                              </Text>
                            </Table.Td>
                            <Table.Td>
                              <Badge variant="light" color={ROLE_COLOR[m.role]} data-testid="member-role" miw="fit-content">
                                {ROLE_LABEL[m.role]}
                              </Badge>
                            </Table.Td>
                            {p.manageTeam && (
                              <Table.Td ta="right">
                                {manageable && (
                                  <Menu position="bottom-end" withinPortal>
                                    <Menu.Target>
                                      <Button variant="default" size="xs" aria-label={`Manage ${m.user.email}`}>
                                        Manage
                                      </Button>
                                    </Menu.Target>
                                    <Menu.Dropdown>
                                      <Menu.Label>Change role</Menu.Label>
                                      {choices.map((r: Role) => (
                                        <Menu.Item
                                          key={r}
                                          onClick={() =>
                                            void act(
                                              () => updateRole({ userId: m.user.id, role: r }),
                                              `${m.user.email} is now ${ROLE_LABEL[r].toLowerCase()}.`,
                                              reloadMembers,
                                            )
                                          }
                                        >
                                          Make {ROLE_LABEL[r].toLowerCase()}
                                        </Menu.Item>
                                      ))}
                                      <Menu.Divider />
                                      <Menu.Item color="red" onClick={() => confirmRemove(m.user.id, m.user.email)}>
                                        Remove from workspace
                                      </Menu.Item>
                                    </Menu.Dropdown>
                                  </Menu>
                                )}
                              </Table.Td>
                            )}
                          </Table.Tr>
                        );
                      })}
                    </Table.Tbody>
                  </Table>
                )}
                <Pager
                  pages={memberPages}
                  hasNextPage={data.tenant.members.pageInfo.hasNextPage}
                  endCursor={data.tenant.members.pageInfo.endCursor}
                  label="Members"
                />
              </>
            )}
          </QueryState>
        </Card>

        {p.readInvitations && (
          <Card withBorder padding="sm">
            <Title order={2} size="h4" mb="xs" px={4}>
              Pending invitations
            </Title>
            <Text size="sm" c="dimmed" mb="xs" px={4}>
              Each link works once, for 7 days. Resending mails a new link; the old one stops working.
            </Text>
            <QueryState result={invitations} retry={reloadInvitations}>
              {(data) =>
                data.tenant.invitations.nodes.length === 0 && invitationPages.page === 1 ? (
                  <Empty title="No pending invitations">
                    {p.manageTeam ? 'Invite someone by email: they join with the role you choose.' : null}
                  </Empty>
                ) : (
                  <>
                    <Table verticalSpacing="sm" aria-label="Pending invitations">
                      <Table.Thead>
                        <Table.Tr>
                          <Table.Th>Invited</Table.Th>
                          <Table.Th ta="right">Actions</Table.Th>
                        </Table.Tr>
                      </Table.Thead>
                      <Table.Tbody>
                        {data.tenant.invitations.nodes.map((i) => (
                          <Table.Tr key={i.id} data-testid="invitation-row" data-email={i.email}>
                            <Table.Td>
                              <Text size="sm" fw={500} style={{ wordBreak: 'break-all' }}>
                                {i.email}
                              </Text>
                              <Text size="xs" c="dimmed">
                                {ROLE_LABEL[i.role]} · sent {formatDate(i.createdAt)} ·{' '}
                                {i.status === 'EXPIRED' ? (
                                  <Text span size="xs" fw={700} c="red.9">
                                    expired {formatDate(i.expiresAt)}: resend it or revoke it
                                  </Text>
                                ) : (
                                  <>expires {formatDate(i.expiresAt)}</>
                                )}
                              </Text>
                            </Table.Td>
                            <Table.Td>
                              <Group gap="xs" justify="flex-end">
                                {p.grantable.includes(i.role) && (
                                  <Button
                                    size="xs"
                                    variant="default"
                                    aria-label={`Resend the invitation of ${i.email}`}
                                    onClick={() =>
                                      void act(
                                        () => resend({ id: i.id }),
                                        `A new link was sent to ${i.email}; the old one no longer works.`,
                                        reloadInvitations,
                                      )
                                    }
                                  >
                                    Resend
                                  </Button>
                                )}
                                <Button
                                  size="xs"
                                  variant="default"
                                  aria-label={`Revoke the invitation of ${i.email}`}
                                  onClick={() => confirmRevoke(i.id, i.email)}
                                >
                                  Revoke
                                </Button>
                              </Group>
                            </Table.Td>
                          </Table.Tr>
                        ))}
                      </Table.Tbody>
                    </Table>
                    <Pager
                      pages={invitationPages}
                      hasNextPage={data.tenant.invitations.pageInfo.hasNextPage}
                      endCursor={data.tenant.invitations.pageInfo.endCursor}
                      label="Invitations"
                    />
                  </>
                )
              }
            </QueryState>
          </Card>
        )}
      </Stack>
      {p.manageTeam && (
        <InviteDialog
          opened={inviteOpened}
          onClose={invite.close}
          grantable={p.grantable}
          emailVerified={v?.user.emailVerified ?? false}
          onInvited={reloadInvitations}
        />
      )}
    </>
  );
}
