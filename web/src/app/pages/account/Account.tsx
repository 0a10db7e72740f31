// The Account page: who is signed in, and "Download my data" (a person's own export:
// their account, workspaces, sessions and the audit entries they are the actor of).
import { Card, Stack, Text, Title } from '@mantine/core';
import { useQuery } from 'urql';
import { ViewerDocument } from '../../auth/viewer';
import { PageHeader } from '../../components/PageHeader';
import { QueryState } from '../../components/PageState';
import { ExportsCard } from '../exports/ExportsCard';

export function Account() {
  const [viewer, reexecute] = useQuery({ query: ViewerDocument });
  return (
    <>
      <PageHeader title="Account" description="Your own account, across every workspace." example="settings" />
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
      </Stack>
    </>
  );
}
