// /admin: every tenant, searchable by name or slug, filtered by plan and status, sorted by
// name, creation, members or plan, a page at a time through the server's connection. The
// filters and the sort live in the URL (deep links and the back button work).
import { Anchor, Button, Group, Select, Table, Text, TextInput, UnstyledButton, VisuallyHidden } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQuery } from 'urql';
import type { OrderDirection, TenantOrderField, TenantStatus } from '../../../gql/graphql';
import { Empty } from '../../components/PageState';
import { PageHeader } from '../../components/PageHeader';
import { AdminQueryState, ScrollRegion, AdminTabs, StatusBadge } from './common';
import { formatDate } from '../../format';
import { AdminTenantsDocument } from './documents';

const PAGE_SIZE = 20;
const FIELDS: { field: TenantOrderField; label: string; param: string }[] = [
  { field: 'NAME', label: 'Name', param: 'name' },
  { field: 'PLAN', label: 'Plan', param: 'plan' },
  { field: 'MEMBER_COUNT', label: 'Members', param: 'members' },
  { field: 'CREATED_AT', label: 'Created', param: 'created' },
];
const STATUSES: { value: TenantStatus; label: string }[] = [
  { value: 'ACTIVE', label: 'Active' },
  { value: 'SUSPENDED', label: 'Suspended' },
  { value: 'PENDING_DELETION', label: 'Pending deletion' },
];

export function AdminTenants() {
  const [params, setParams] = useSearchParams();
  const [search, setSearch] = useState(params.get('q') ?? '');
  const [debounced] = useDebouncedValue(search.trim(), 300);
  const plan = params.get('plan');
  const status = (STATUSES.find((s) => s.value === params.get('status'))?.value ?? null) as TenantStatus | null;
  const sort = FIELDS.find((f) => f.param === params.get('sort')) ?? FIELDS[3]!;
  const direction: OrderDirection = params.get('dir') === 'asc' ? 'ASC' : params.get('dir') === 'desc' ? 'DESC' : sort.field === 'NAME' ? 'ASC' : 'DESC';

  function update(changes: Record<string, string | null>) {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    setParams(next, { replace: true });
  }

  useEffect(() => {
    if ((params.get('q') ?? '') !== debounced) update({ q: debounced || null });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debounced]);

  // The cursors of the pages before this one (a connection goes forward only).
  const filterKey = `${debounced}|${plan}|${status}|${sort.field}|${direction}`;
  const [pages, setPages] = useState<{ key: string; cursors: (string | null)[] }>({ key: filterKey, cursors: [null] });
  const cursors = pages.key === filterKey ? pages.cursors : [null];
  const after = cursors[cursors.length - 1] ?? null;

  const variables = useMemo(
    () => ({
      first: PAGE_SIZE,
      after,
      search: debounced || null,
      status,
      plan,
      orderBy: { field: sort.field, direction },
    }),
    [after, debounced, status, plan, sort.field, direction],
  );
  const [result, reexecute] = useQuery({ query: AdminTenantsDocument, variables });

  function sortBy(param: string) {
    if (param === sort.param) update({ sort: param, dir: direction === 'ASC' ? 'desc' : 'asc' });
    else update({ sort: param, dir: null });
  }

  return (
    <>
      <PageHeader
        title="Admin dashboard"
        description="Every tenant on the platform. Each read is written to the tenant's audit trail."
        example="admin"
      />
      <AdminTabs />
      <Group align="flex-end" gap="sm" mb="md" wrap="wrap">
        <TextInput
          label="Search tenants"
          placeholder="Name or slug"
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          maxLength={100}
          w={{ base: '100%', xs: 260 }}
          type="search"
        />
        <Select
          label="Plan"
          placeholder="Any plan"
          clearable
          data={(result.data?.admin.plans ?? []).map((p) => ({ value: p.key, label: p.name }))}
          value={plan}
          onChange={(v) => update({ plan: v })}
          w={{ base: '100%', xs: 170 }}
        />
        <Select
          label="Status"
          placeholder="Any status"
          clearable
          data={STATUSES}
          value={status}
          onChange={(v) => update({ status: v })}
          w={{ base: '100%', xs: 170 }}
        />
      </Group>
      <AdminQueryState result={result} retry={() => reexecute({ requestPolicy: 'network-only' })}>
        {(data) => {
          const conn = data.admin.tenants;
          const planName = new Map(data.admin.plans.map((p) => [p.key, p.name]));
          if (conn.nodes.length === 0) {
            return (
              <Empty title="No tenants match">
                {debounced || plan || status ? 'Change the search or the filters.' : 'No tenant has signed up yet.'}
              </Empty>
            );
          }
          return (
            <>
              <ScrollRegion label="Tenants (scrolls sideways)" minWidth={640}>
                <Table striped highlightOnHover aria-label="Tenants" data-testid="tenants-table">
                  <Table.Thead>
                    <Table.Tr>
                      {FIELDS.map((f) => (
                        <Table.Th
                          key={f.param}
                          aria-sort={sort.param === f.param ? (direction === 'ASC' ? 'ascending' : 'descending') : 'none'}
                        >
                          <UnstyledButton onClick={() => sortBy(f.param)} fw={600} fz="sm">
                            {f.label}
                            {sort.param === f.param ? (direction === 'ASC' ? ' ▲' : ' ▼') : ''}
                            <VisuallyHidden>
                              {sort.param === f.param
                                ? `, sorted ${direction === 'ASC' ? 'ascending' : 'descending'}; sort the other way`
                                : ', sort by this column'}
                            </VisuallyHidden>
                          </UnstyledButton>
                        </Table.Th>
                      ))}
                      <Table.Th>Status</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {conn.nodes.map((t) => (
                      <Table.Tr key={t.id}>
                        <Table.Td>
                          <Anchor component={Link} to={`/admin/tenants/${t.id}`} fw={600}>
                            {t.name}
                          </Anchor>
                          <Text size="xs" c="dimmed">
                            {t.slug}
                          </Text>
                        </Table.Td>
                        <Table.Td>{planName.get(t.planKey) ?? t.planKey}</Table.Td>
                        <Table.Td>{t.memberCount}</Table.Td>
                        <Table.Td>{formatDate(t.createdAt)}</Table.Td>
                        <Table.Td>
                          <StatusBadge status={t.status} />
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </ScrollRegion>
              <Group justify="space-between" mt="md">
                <Text size="sm" c="dimmed" aria-live="polite">
                  Page {cursors.length}
                </Text>
                <Group gap="sm">
                  <Button
                    variant="default"
                    disabled={cursors.length <= 1}
                    onClick={() => setPages({ key: filterKey, cursors: cursors.slice(0, -1) })}
                  >
                    Previous
                  </Button>
                  <Button
                    variant="default"
                    disabled={!conn.pageInfo.hasNextPage}
                    onClick={() => setPages({ key: filterKey, cursors: [...cursors, conn.pageInfo.endCursor ?? null] })}
                  >
                    Next
                  </Button>
                </Group>
              </Group>
            </>
          );
        }}
      </AdminQueryState>
    </>
  );
}
