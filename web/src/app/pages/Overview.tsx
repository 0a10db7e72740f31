// The portal's first page: the workspace at a glance (plan, team size, this month's quotas).
import { Card, SimpleGrid, Stack, Text } from '@mantine/core';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { Empty, QueryState } from '../components/PageState';
import { PageHeader } from '../components/PageHeader';
import { QuotaBars } from './usage/QuotaBars';

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
        {(data) =>
          !data.tenant ? (
            // A platform admin (or anyone) without a workspace: nothing to show here.
            <Empty title="You are not in a workspace">
              Accept an invitation, or create a workspace. Platform admins find every tenant in the admin dashboard.
            </Empty>
          ) : (
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
                <QuotaBars quotas={data.tenant.quotas} names={{}} />
              )}
            </Card>
          </Stack>
          )
        }
      </QueryState>
    </>
  );
}
