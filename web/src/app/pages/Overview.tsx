// The portal's first page: the workspace at a glance (plan, team size, this month's quotas).
import { Card, Group, Progress, SimpleGrid, Stack, Text } from '@mantine/core';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { Empty, QueryState } from '../components/PageState';
import { PageHeader } from '../components/PageHeader';

export const OverviewDocument = graphql(`
  query Overview {
    viewer {
      role
    }
    tenant {
      id
      name
      slug
      plan {
        key
        name
      }
      quotas {
        metric
        used
        limit
        percent
        resetsAt
      }
    }
  }
`);

export function Overview() {
  const [result, reexecute] = useQuery({ query: OverviewDocument });
  return (
    <>
      <PageHeader title="Overview" description="Your workspace at a glance." />
      <QueryState result={result} retry={() => reexecute({ requestPolicy: 'network-only' })}>
        {(data) => (
          <Stack gap="md">
            <SimpleGrid cols={{ base: 1, sm: 3 }}>
              <Card withBorder>
                <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
                  Workspace
                </Text>
                <Text fw={600} size="lg" data-testid="tenant-name">
                  {data.tenant.name}
                </Text>
                <Text size="sm" c="dimmed">
                  {data.tenant.slug}
                </Text>
              </Card>
              <Card withBorder>
                <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
                  Plan
                </Text>
                <Text fw={600} size="lg">
                  {data.tenant.plan.name}
                </Text>
              </Card>
              <Card withBorder>
                <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
                  Your role
                </Text>
                <Text fw={600} size="lg" data-testid="viewer-role">
                  {data.viewer?.role?.toLowerCase() ?? '—'}
                </Text>
              </Card>
            </SimpleGrid>
            <Card withBorder>
              <Text fw={600} mb="sm">
                This month
              </Text>
              {data.tenant.quotas.length === 0 ? (
                <Empty title="No quotas on your plan">Usage is recorded without a monthly limit.</Empty>
              ) : (
                <Stack gap="sm">
                  {data.tenant.quotas.map((q) => (
                    <Stack key={q.metric} gap={4}>
                      <Group justify="space-between">
                        <Text size="sm">{q.metric}</Text>
                        <Text size="sm" c="dimmed">
                          {q.used.toLocaleString()} / {q.limit.toLocaleString()}
                        </Text>
                      </Group>
                      <Progress
                        value={Math.min(100, q.percent)}
                        color={q.percent >= 100 ? 'red' : q.percent >= 90 ? 'orange' : 'blue'}
                        aria-label={`${q.metric}: ${Math.round(q.percent)} % of the monthly quota`}
                      />
                    </Stack>
                  ))}
                </Stack>
              )}
            </Card>
          </Stack>
        )}
      </QueryState>
    </>
  );
}
