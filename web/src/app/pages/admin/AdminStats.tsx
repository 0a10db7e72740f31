// /admin/stats: the platform at a glance: tenants by plan, MRR, users, API calls today and
// over 30 days, the top consumers (each listed tenant gets the read in its trail).
import '@mantine/charts/styles.css';
import { BarChart, DonutChart } from '@mantine/charts';
import { Anchor, Card, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { Link } from 'react-router';
import { useQuery } from 'urql';
import { Empty } from '../../components/PageState';
import { PageHeader } from '../../components/PageHeader';
import { AdminQueryState, ChartBox, AdminTabs, lastDays } from './common';
import { ApiCallsCard } from './ApiCallsCard';
import { money } from '../../format';
import { AdminStatsDocument } from './documents';

const PLAN_COLORS = ['gray.6', 'blue.6', 'indigo.7', 'grape.7', 'teal.7', 'orange.7'];

function Figure({ label, value, hint, testId }: { label: string; value: string; hint?: string; testId?: string }) {
  return (
    <Card withBorder>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text fw={700} size="xl" data-testid={testId}>
        {value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Card>
  );
}

export function AdminStats() {
  const [range] = useState(() => lastDays(30));
  const [result, reexecute] = useQuery({ query: AdminStatsDocument, variables: range });
  return (
    <>
      <PageHeader title="Admin dashboard" description="The whole platform at a glance." example="admin" />
      <AdminTabs />
      <AdminQueryState result={result} retry={() => reexecute({ requestPolicy: 'network-only' })}>
        {(data) => {
          const { stats, usage, topConsumers, plans } = data.admin;
          const planName = new Map(plans.map((p) => [p.key, p.name]));
          const order = new Map(plans.map((p, i) => [p.key, i]));
          const byPlan = [...stats.tenantsByPlan]
            .sort((a, b) => (order.get(a.planKey) ?? 99) - (order.get(b.planKey) ?? 99))
            .map((p, i) => ({
              name: planName.get(p.planKey) ?? p.planKey,
              value: p.tenants,
              color: PLAN_COLORS[i % PLAN_COLORS.length]!,
            }));
          const mrr = stats.mrr.length
            ? stats.mrr.map((m) => money(m.amount, m.currency)).join(' + ')
            : money(0, 'usd');
          const top = topConsumers.map((c) => ({ tenant: c.tenant.name, calls: c.total }));
          return (
            <Stack gap="md">
              <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }}>
                <Figure
                  label="Tenants"
                  value={stats.tenants.toLocaleString()}
                  hint={`${stats.activeTenants.toLocaleString()} active · ${stats.suspendedTenants.toLocaleString()} suspended`}
                  testId="stat-tenants"
                />
                <Figure label="MRR" value={mrr} hint={`${stats.activeSubscriptions} subscriptions (trials count once they pay)`} testId="stat-mrr" />
                <Figure
                  label="Active users"
                  value={stats.activeUsers.toLocaleString()}
                  hint={`in the last 30 days · ${stats.users.toLocaleString()} accounts in all`}
                  testId="stat-active-users"
                />
                <Figure
                  label="API calls today"
                  value={stats.apiCallsToday.toLocaleString()}
                  hint={`${stats.eventsToday.toLocaleString()} usage ${stats.eventsToday === 1 ? 'event' : 'events'} since 00:00 UTC`}
                  testId="stat-api-calls"
                />
              </SimpleGrid>
              <SimpleGrid cols={{ base: 1, md: 2 }}>
                <Card withBorder>
                  <Title order={2} size="h4" mb="sm">
                    Tenants by plan
                  </Title>
                  {byPlan.length === 0 ? (
                    <Empty title="No tenants yet" />
                  ) : (
                    <Group justify="center" gap="xl" wrap="wrap">
                      <ChartBox summary={`Tenants by plan: ${byPlan.map((p) => `${p.name} ${p.value}`).join(", ")}`}>
<DonutChart pieProps={{ rootTabIndex: -1 }} data={byPlan} withLabelsLine={false} size={160} thickness={28} />
</ChartBox>
                      <Stack gap={4}>
                        {byPlan.map((p) => (
                          <Text size="sm" key={p.name}>
                            {p.name}: <b>{p.value}</b>
                          </Text>
                        ))}
                      </Stack>
                    </Group>
                  )}
                </Card>
                <Card withBorder>
                  <Title order={2} size="h4" mb="sm">
                    Revenue by plan
                  </Title>
                  {stats.byPlan.length === 0 ? (
                    <Empty title="No paying subscriptions">MRR counts active and past-due Stripe subscriptions.</Empty>
                  ) : (
                    <Table aria-label="Revenue by plan">
                      <Table.Thead>
                        <Table.Tr>
                          <Table.Th>Plan</Table.Th>
                          <Table.Th>Subscriptions</Table.Th>
                          <Table.Th>MRR</Table.Th>
                        </Table.Tr>
                      </Table.Thead>
                      <Table.Tbody>
                        {stats.byPlan.map((p) => (
                          <Table.Tr key={`${p.planKey}-${p.mrr.currency}`}>
                            <Table.Td>{planName.get(p.planKey) ?? p.planKey}</Table.Td>
                            <Table.Td>{p.activeSubscriptions}</Table.Td>
                            <Table.Td>{money(p.mrr.amount, p.mrr.currency)}</Table.Td>
                          </Table.Tr>
                        ))}
                      </Table.Tbody>
                    </Table>
                  )}
                </Card>
              </SimpleGrid>
              <ApiCallsCard usage={usage} whose="every tenant" />
              <Card withBorder>
                <Title order={2} size="h4" mb="sm">
                  Top consumers, last 30 days
                </Title>
                {top.length === 0 ? (
                  <Empty title="No tenant made API calls in the last 30 days" />
                ) : (
                  <>
                    <ChartBox summary="API calls per tenant, most first (listed below)">
<BarChart
                      h={Math.max(120, top.length * 36)}
                      data={top}
                      dataKey="tenant"
                      orientation="vertical"
                      yAxisProps={{ width: 120 }}
                      series={[{ name: 'calls', label: 'API calls', color: 'indigo.6' }]}
                    />
</ChartBox>
                    <Stack gap={2} mt="sm">
                      {topConsumers.map((c) => (
                        <Text size="sm" key={c.tenant.id}>
                          <Anchor component={Link} to={`/admin/tenants/${c.tenant.id}`}>
                            {c.tenant.name}
                          </Anchor>{' '}
                          — {c.total.toLocaleString()} calls
                        </Text>
                      ))}
                    </Stack>
                  </>
                )}
              </Card>
            </Stack>
          );
        }}
      </AdminQueryState>
    </>
  );
}
