// One key (`/keys/:id`, a deep link): its details, rotate and revoke, and its api_calls per
// hour over the last 24 hours or per day over the last 30 days (`ApiKey.usage`).
import '@mantine/charts/styles.css';
import { BarChart } from '@mantine/charts';
import { Anchor, Button, Card, Group, SegmentedControl, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useMemo, useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { useQuery } from 'urql';
import type { UsageGranularity } from '../../../gql/graphql';
import { permissions, ViewerDocument } from '../../auth/viewer';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageHeader } from '../../components/PageHeader';
import { Empty, QueryState } from '../../components/PageState';
import { ApiKeyDocument } from './documents';
import { EnvironmentBadge, rateLabel, scopeLabel, StateBadge, when } from './format';
import { useKeyActions } from './KeyActions';
import { creatorName, useCreators } from './Keys';

type Range = '24h' | '30d';

function rangeOf(range: Range): { from: string; to: string; granularity: UsageGranularity } {
  const now = Date.now();
  const hours = range === '24h' ? 24 : 30 * 24;
  return {
    from: new Date(now - hours * 3_600_000).toISOString(),
    to: new Date(now).toISOString(),
    granularity: range === '24h' ? 'HOUR' : 'DAY',
  };
}

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Stack gap={2}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <div>{children}</div>
    </Stack>
  );
}

export function KeyDetail() {
  const { id = '' } = useParams();
  const [range, setRange] = useState<Range>('24h');
  const variables = useMemo(() => ({ id, ...rangeOf(range) }), [id, range]);
  const [result, reexecute] = useQuery({ query: ApiKeyDocument, variables });
  const [viewer] = useQuery({ query: ViewerDocument });
  const canManage = permissions(viewer.data?.viewer?.role).manageKeys;
  const creators = useCreators();
  const actions = useKeyActions();

  return (
    <>
      <Anchor component={Link} to="/keys" size="sm">
        ← API keys
      </Anchor>
      <QueryState result={result} retry={() => reexecute({ requestPolicy: 'network-only' })}>
        {(data) => {
          const k = data.tenant?.apiKey;
          // A refused field leaves partial data: the error above says why.
          if (!k && result.error) return null;
          if (!k) {
            return (
              <Card withBorder mt="md">
                <Empty title="No such key">It may belong to another workspace, or the link is wrong.</Empty>
              </Card>
            );
          }
          const usable = k.state === 'ACTIVE' || k.state === 'ROTATING';
          const unit = k.usage.granularity === 'HOUR' ? 'hour' : 'day';
          const points = k.usage.points.map((p) => ({
            at:
              k.usage.granularity === 'HOUR'
                ? new Date(p.at).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
                : new Date(p.at).toLocaleDateString(undefined, { month: 'short', day: 'numeric' }),
            calls: p.value,
          }));
          return (
            <>
              <PageHeader
                title={k.name}
                description={
                  <>
                    <code>{k.displayPrefix}…</code> · created {when(k.createdAt)}
                  </>
                }
                example="keys"
                actions={
                  canManage &&
                  usable && (
                    <>
                      <Button variant="default" onClick={() => actions.rotate(k)}>
                        Rotate
                      </Button>
                      <Button color="red.9" variant="outline" onClick={() => actions.revoke(k)}>
                        Revoke
                      </Button>
                    </>
                  )
                }
              />
              {actions.error != null && <ErrorAlert error={actions.error} />}
              <Card withBorder mb="md">
                <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="md">
                  <Field label="State">
                    <StateBadge state={k.state} />
                  </Field>
                  <Field label="Environment">
                    <EnvironmentBadge environment={k.environment} />
                  </Field>
                  <Field label="Rate limit">{rateLabel(k.rateLimit)}</Field>
                  <Field label="Created by">{creatorName(creators, k.createdById)}</Field>
                  <Field label="Last used">{when(k.lastUsedAt, 'never')}</Field>
                  <Field label="Expires">{when(k.expiresAt, 'never')}</Field>
                  {k.rotationEndsAt && <Field label="Old secret works until">{when(k.rotationEndsAt)}</Field>}
                  {k.revokedAt && <Field label="Revoked">{when(k.revokedAt)}</Field>}
                  <Field label="Scopes">
                    <Text size="sm">{k.scopes.length ? k.scopes.map(scopeLabel).join(', ') : 'none'}</Text>
                  </Field>
                </SimpleGrid>
              </Card>
              <Card withBorder>
                <Group justify="space-between" mb="md" wrap="wrap">
                  <Stack gap={0}>
                    <Title order={2} size="h4">
                      API calls
                    </Title>
                    <Text size="sm" c="dimmed" data-testid="usage-total">
                      {k.usage.total.toLocaleString()} in the last {range === '24h' ? '24 hours' : '30 days'} ({k.usage.environment.toLowerCase()})
                    </Text>
                  </Stack>
                  <SegmentedControl
                    aria-label="Range"
                    value={range}
                    onChange={(v) => setRange(v as Range)}
                    data={[
                      { value: '24h', label: '24 hours' },
                      { value: '30d', label: '30 days' },
                    ]}
                  />
                </Group>
                {k.usage.total === 0 ? (
                  <Empty title="No calls in this range">Calls made with this key appear here within seconds.</Empty>
                ) : (
                  <div role="img" aria-label={`API calls per ${unit}: ${k.usage.total} in total`} style={{ overflow: 'hidden', minWidth: 0 }}>
                    <BarChart h={260} data={points} dataKey="at" series={[{ name: 'calls', color: 'indigo.6', label: `Calls per ${unit}` }]} tickLine="y" />
                  </div>
                )}
              </Card>
            </>
          );
        }}
      </QueryState>
      {actions.elements}
    </>
  );
}
