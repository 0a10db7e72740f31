// The account page: who is signed in, "Download my data" (a person's own export: their
// account, workspaces, sessions and the audit entries they are the actor of) and "Delete my
// account" (pages/erasure).
import { Card, Stack, Text, Title } from '@mantine/core';
import { useQuery } from 'urql';
import { ViewerDocument } from '../../auth/viewer';
import { PageHeader } from '../../components/PageHeader';
import { QueryState } from '../../components/PageState';
import { DeleteMyAccountCard } from '../erasure/Account';
import { ExportsCard } from '../exports/ExportsCard';

export function Account() {
  const [viewer, reexecute] = useQuery({ query: ViewerDocument });
  return (
    <>
      <PageHeader title="Your account" description="The person signed in, across every workspace." example="settings" />
      <Stack gap="lg" maw={860}>
        <QueryState result={viewer} retry={() => reexecute({ requestPolicy: 'network-only' })}>
          {(data) => (
            <Card withBorder component="section" aria-labelledby="account-who">
              <Title order={2} size="h4" id="account-who" mb={4}>
                Signed in as
              </Title>
              <Text style={{ overflowWrap: 'anywhere' }}>{data.viewer?.user.email ?? '—'}</Text>
              <Text size="sm" c="dimmed">
                Member of {data.viewer?.memberships.length ?? 0} workspace(s).
              </Text>
            </Card>
          )}
        </QueryState>
        <ExportsCard scope="personal" />
        {viewer.data?.viewer && (
          <DeleteMyAccountCard email={viewer.data.viewer.user.email} tenantId={viewer.data.viewer.tenant?.id ?? null} />
        )}
      </Stack>
    </>
  );
}
