// The app-wide notice (the Shell renders this) when a monthly quota is at 90 % or more,
// or used up. Reads the quotas on sign-in and on page changes (at most every 30 s);
// while the usage page is open its live feed keeps them current through the cache.
import { Alert, Anchor, Group, Text } from '@mantine/core';
import { useEffect, useRef } from 'react';
import { Link, useLocation } from 'react-router';
import { useQuery } from 'urql';
import type { Role } from '../../../gql/graphql';
import { permissions } from '../../auth/viewer';
import { count, day, quotaLevel } from '../billing/format';
import { QuotasDocument } from './documents';

const REFRESH_MS = 30_000;

export function QuotaBanner({ role }: { role: Role | null }) {
  const { pathname } = useLocation();
  const [result, reexecute] = useQuery({ query: QuotasDocument, pause: role === null });
  const last = useRef(Date.now());
  useEffect(() => {
    if (role === null || Date.now() - last.current < REFRESH_MS) return;
    last.current = Date.now();
    reexecute({ requestPolicy: 'network-only' });
  }, [pathname, role, reexecute]);

  const hot = (result.data?.tenant.quotas ?? []).filter((q) => quotaLevel(q.percent) !== 'ok');
  if (hot.length === 0) return null;
  const over = hot.some((q) => quotaLevel(q.percent) === 'over');
  return (
    <Alert
      color={over ? 'red' : 'orange'}
      mb="md"
      title={over ? 'A monthly quota is used up' : 'A monthly quota is nearly used up'}
      data-testid="quota-banner"
    >
      {hot.map((q) => (
        <Text size="sm" key={q.metric}>
          {q.metric}: {count(q.used)} of {count(q.limit)} ({Math.round(q.percent)} %) this month
          {quotaLevel(q.percent) === 'over' ? '; further usage is refused' : ''} until {day(q.resetsAt)}.
        </Text>
      ))}
      <Group gap="md" mt={4}>
        {!pathname.startsWith('/usage') && (
          <Anchor component={Link} to="/usage" size="sm" fw={600}>
            See usage
          </Anchor>
        )}
        {permissions(role).manageBilling && !pathname.startsWith('/billing') && (
          <Anchor component={Link} to="/billing" size="sm" fw={600}>
            Upgrade the plan
          </Anchor>
        )}
      </Group>
    </Alert>
  );
}
