// Pieces the admin pages share: the FORBIDDEN state for non-admins, the section tabs,
// status badges and formatting.
import { Anchor, Badge, Box, Button, Group, Stack, VisuallyHidden } from '@mantine/core';
import type { ReactNode } from 'react';
import { Link, useLocation } from 'react-router';
import type { TenantStatus } from '../../../gql/graphql';
import { hasCode } from '../../../graphql/errors';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/PageState';

/** QueryState, with a clear "platform admins only" state when the server says FORBIDDEN. */
export function AdminQueryState<T>({
  result,
  retry,
  children,
}: {
  result: { data?: T | undefined; error?: unknown; fetching: boolean };
  retry?: () => void;
  children: (data: T) => ReactNode;
}) {
  if (hasCode(result.error, 'FORBIDDEN') && !result.data) {
    return (
      <Stack gap="sm" data-testid="admin-forbidden">
        <ErrorAlert error={result.error} title="Platform admins only" />
        <Anchor component={Link} to="/" size="sm">
          Back to your workspace
        </Anchor>
      </Stack>
    );
  }
  return <QueryState result={result} {...(retry ? { retry } : {})} children={children} />;
}

/** Tenants | Platform stats (links: each is its own URL). */
export function AdminTabs() {
  const { pathname } = useLocation();
  const stats = pathname.startsWith('/admin/stats');
  return (
    <Group component="nav" aria-label="Admin sections" gap="xs" mb="md">
      <Button component={Link} to="/admin" size="xs" variant={stats ? 'default' : 'filled'} aria-current={stats ? undefined : 'page'}>
        Tenants
      </Button>
      <Button component={Link} to="/admin/stats" size="xs" variant={stats ? 'filled' : 'default'} aria-current={stats ? 'page' : undefined}>
        Platform stats
      </Button>
    </Group>
  );
}

const STATUS_COLOR: Record<TenantStatus, string> = { ACTIVE: 'green', SUSPENDED: 'red', PENDING_DELETION: 'orange' };

export function StatusBadge({ status }: { status: TenantStatus }) {
  return (
    <Badge color={STATUS_COLOR[status]} variant="dot">
      {status.toLowerCase().replace('_', ' ')}
    </Badge>
  );
}

/** The last `days` whole UTC days through today: {from, to} for daily usage reads. */
export function lastDays(days: number): { from: string; to: string } {
  const now = new Date();
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return {
    from: new Date(midnight - (days - 1) * 86_400_000).toISOString(),
    to: new Date(midnight + 86_400_000).toISOString(),
  };
}

/** A usage point's day, short (for chart axes). */
export function dayLabel(iso: string): string {
  return new Date(iso).toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

/** A table that scrolls sideways on narrow screens; the region is focusable, so keyboard
 * users can scroll it too. */
export function ScrollRegion({ label, minWidth, children }: { label: string; minWidth: number; children: ReactNode }) {
  return (
    <Box tabIndex={0} role="region" aria-label={label} style={{ overflowX: 'auto', position: 'relative' }}>
      <Box miw={minWidth}>{children}</Box>
    </Box>
  );
}

/** A chart is a picture of numbers the page also gives as text: screen readers get the
 * text (`summary`), the chart is hidden from them. */
export function ChartBox({ summary, children }: { summary: string; children: ReactNode }) {
  return (
    <Box>
      <VisuallyHidden>{summary}</VisuallyHidden>
      <Box aria-hidden="true">{children}</Box>
    </Box>
  );
}

/** "most on Dec 3 (1,234)" for a daily series. */
export function peakText(points: { day: string; calls: number }[]): string {
  const peak = points.reduce<{ day: string; calls: number } | null>((m, p) => (!m || p.calls > m.calls ? p : m), null);
  return peak ? `most on ${peak.day} (${peak.calls.toLocaleString()})` : 'none';
}
