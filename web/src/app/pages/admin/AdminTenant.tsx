// /admin/tenants/:id: one tenant as a platform admin sees it: status and plan with the
// actions on them, members, API keys, the subscription, 30 days of API calls, and the
// audit trail (every one of these reads is written to the tenant's own trail).
import '@mantine/charts/styles.css';
import { Alert, Anchor, Badge, Button, Card, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useQuery } from 'urql';
import { Empty, Failed, Loading } from '../../components/PageState';
import { PageHeader } from '../../components/PageHeader';
import { AdminQueryState, ScrollRegion, StatusBadge, lastDays } from './common';
import { ApiCallsCard } from './ApiCallsCard';
import { formatDate, formatDateTime } from '../../format';
import { AdminTenantAuditDocument, AdminTenantDocument } from './documents';
import { TenantActions } from './TenantActions';

export function AdminTenant() {
  const { id = '' } = useParams();
  const [range] = useState(() => lastDays(30));
  const [result, reexecute] = useQuery({ query: AdminTenantDocument, variables: { id, ...range } });
  const refresh = () => reexecute({ requestPolicy: 'network-only' });
  return (
    <>
      <Anchor component={Link} to="/admin" size="sm">
        ← All tenants
      </Anchor>
      <AdminQueryState result={result} retry={refresh}>
        {(data) => {
          const t = data.admin.tenant;
          const sub = t.billing.subscription;
          return (
            <Stack gap="md" mt="sm">
              <PageHeader
                title={t.name}
                description={
                  <>
                    {t.slug} · created {formatDate(t.createdAt)} · {t.memberCount} {t.memberCount === 1 ? 'member' : 'members'} · {t.plan.name} plan
                  </>
                }
                example="admin"
                actions={<StatusBadge status={t.status} />}
              />
              {t.status === 'SUSPENDED' && (
                <Alert color="red" title="Suspended" data-testid="suspension-reason">
                  {t.statusReason ?? 'No reason was given.'}
                </Alert>
              )}
              <SimpleGrid cols={{ base: 1, md: 2 }}>
                <TenantActions tenant={t} plans={data.admin.plans} onChanged={refresh} />
                <Card withBorder>
                  <Text fw={600} mb="xs">
                    Subscription
                  </Text>
                  {!t.billing.configured && (
                    <Text size="sm" c="dimmed">
                      Stripe is not configured on this server: plans are assigned here.
                    </Text>
                  )}
                  {sub ? (
                    <Stack gap={4}>
                      <Group gap="xs">
                        <Badge variant="dot">{sub.status.toLowerCase().replace('_', ' ')}</Badge>
                        <Text size="sm">
                          {sub.planKey ?? '—'} · {sub.interval?.toLowerCase() ?? '—'}ly
                        </Text>
                      </Group>
                      <Text size="sm">
                        {sub.cancelAtPeriodEnd ? 'Ends' : 'Renews'} {formatDate(sub.currentPeriodEnd)}
                      </Text>
                      {sub.trialEnd && <Text size="sm">Trial until {formatDate(sub.trialEnd)}</Text>}
                    </Stack>
                  ) : (
                    t.billing.configured && (
                      <Text size="sm" c="dimmed">
                        No Stripe subscription: the plan is the one assigned here.
                      </Text>
                    )
                  )}
                  {t.billing.warning && (
                    <Alert color="orange" mt="sm">
                      {t.billing.warning}
                    </Alert>
                  )}
                </Card>
              </SimpleGrid>
              <ApiCallsCard usage={t.usage} />
              <Card withBorder>
                <Title order={2} size="h4" mb="sm">
                  Members
                </Title>
                {t.members.nodes.length === 0 ? (
                  <Empty title="No members" />
                ) : (
                  <ScrollRegion label="Members (scrolls sideways)" minWidth={420}>
                    <Table aria-label="Members">
                      <Table.Thead>
                        <Table.Tr>
                          <Table.Th>Email</Table.Th>
                          <Table.Th>Role</Table.Th>
                          <Table.Th>Joined</Table.Th>
                        </Table.Tr>
                      </Table.Thead>
                      <Table.Tbody>
                        {t.members.nodes.map((m) => (
                          <Table.Tr key={m.user.id}>
                            <Table.Td>{m.user.email}</Table.Td>
                            <Table.Td>{m.role.toLowerCase()}</Table.Td>
                            <Table.Td>{formatDate(m.joinedAt)}</Table.Td>
                          </Table.Tr>
                        ))}
                      </Table.Tbody>
                    </Table>
                  </ScrollRegion>
                )}
              </Card>
              <Card withBorder>
                <Title order={2} size="h4" mb="sm">
                  API keys
                </Title>
                {t.apiKeys.nodes.length === 0 ? (
                  <Empty title="No API keys" />
                ) : (
                  <ScrollRegion label="API keys (scrolls sideways)" minWidth={560}>
                    <Table aria-label="API keys">
                      <Table.Thead>
                        <Table.Tr>
                          <Table.Th>Name</Table.Th>
                          <Table.Th>Prefix</Table.Th>
                          <Table.Th>State</Table.Th>
                          <Table.Th>Environment</Table.Th>
                          <Table.Th>Last used</Table.Th>
                        </Table.Tr>
                      </Table.Thead>
                      <Table.Tbody>
                        {t.apiKeys.nodes.map((k) => (
                          <Table.Tr key={k.id}>
                            <Table.Td>{k.name}</Table.Td>
                            <Table.Td>
                              <Text ff="monospace" size="sm">
                                {k.displayPrefix}
                              </Text>
                            </Table.Td>
                            <Table.Td>{k.state.toLowerCase()}</Table.Td>
                            <Table.Td>{k.environment.toLowerCase()}</Table.Td>
                            <Table.Td>{k.lastUsedAt ? formatDateTime(k.lastUsedAt) : 'never'}</Table.Td>
                          </Table.Tr>
                        ))}
                      </Table.Tbody>
                    </Table>
                  </ScrollRegion>
                )}
              </Card>
              <AuditTrail id={t.id} />
            </Stack>
          );
        }}
      </AdminQueryState>
    </>
  );
}

function AuditTrail({ id }: { id: string }) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1] ?? null;
  const [result, reexecute] = useQuery({
    query: AdminTenantAuditDocument,
    variables: { id, after },
    requestPolicy: 'cache-and-network',
  });
  const log = result.data?.admin.tenant.auditLog;
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="sm">
        Audit trail
      </Title>
      {!log ? (
        result.error ? (
          <Failed error={result.error} retry={() => reexecute({ requestPolicy: 'network-only' })} />
        ) : (
          <Loading />
        )
      ) : log.nodes.length === 0 ? (
        <Empty title="Nothing recorded yet" />
      ) : (
        <>
          <ScrollRegion label="Audit trail (scrolls sideways)" minWidth={520}>
            <Table aria-label="Audit trail">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>Action</Table.Th>
                  <Table.Th>By</Table.Th>
                  <Table.Th>From</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {log.nodes.map((e) => (
                  <Table.Tr key={e.id}>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDateTime(e.createdAt)}</Table.Td>
                    <Table.Td>
                      <Text ff="monospace" size="sm">
                        {e.action}
                      </Text>
                    </Table.Td>
                    <Table.Td>{e.actorLabel ?? e.actorType.replace('_', ' ')}</Table.Td>
                    <Table.Td>{e.ip ?? '—'}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollRegion>
          <Group justify="flex-end" gap="sm" mt="sm">
            <Button variant="default" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
              Newer
            </Button>
            <Button
              variant="default"
              disabled={!log.pageInfo.hasNextPage}
              onClick={() => setCursors([...cursors, log.pageInfo.endCursor ?? null])}
            >
              Older
            </Button>
          </Group>
        </>
      )}
    </Card>
  );
}
