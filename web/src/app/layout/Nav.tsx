// The portal's and the dashboard's navigation. Each page appears only when the role may
// use it (the server refuses anyway; this keeps the menu honest).
import { NavLink, Stack, Text } from '@mantine/core';
import { NavLink as RouterLink, useLocation } from 'react-router';
import type { Role } from '../../gql/graphql';
import { permissions } from '../auth/viewer';

interface Item {
  to: string;
  label: string;
  show: (p: ReturnType<typeof permissions>, role: Role | null) => boolean;
}

// One line per page (keep merges easy).
export const PORTAL_ITEMS: Item[] = [
  { to: '/', label: 'Overview', show: (_p, role) => role !== null },
  { to: '/team', label: 'Team', show: (p) => p.readTeam },
  { to: '/settings', label: 'Settings', show: (_p, role) => role !== null },
  { to: '/usage', label: 'Usage', show: (_p, role) => role !== null },
  { to: '/billing', label: 'Billing', show: (_p, role) => role !== null },
  { to: '/keys', label: 'API keys', show: (p) => p.readKeys },
  { to: '/publishable-keys', label: 'Publishable keys', show: (p) => p.manageKeys },
  { to: '/audit', label: 'Audit log', show: (p) => p.readAudit },
  { to: '/webhooks', label: 'Webhooks', show: (p) => p.manageWebhooks },
  { to: '/account', label: 'Account', show: () => true },
];

export function Nav({ role, isPlatformAdmin, onNavigate }: { role: Role | null; isPlatformAdmin: boolean; onNavigate?: () => void }) {
  const p = permissions(role);
  const { pathname } = useLocation();
  const items = PORTAL_ITEMS.filter((i) => i.show(p, role));
  return (
    <Stack gap={2} component="nav" aria-label="Main">
      {items.map((i) => (
        <NavLink
          key={i.to}
          component={RouterLink}
          to={i.to}
          label={i.label}
          active={i.to === '/' ? pathname === '/' : pathname.startsWith(i.to)}
          onClick={onNavigate}
        />
      ))}
      {isPlatformAdmin && (
        <>
          <Text size="xs" c="dimmed" tt="uppercase" fw={700} mt="md" px="sm">
            Platform
          </Text>
          <NavLink
            component={RouterLink}
            to="/admin"
            label="Admin dashboard"
            active={pathname.startsWith('/admin') && !pathname.startsWith('/admin/stats')}
            onClick={onNavigate}
          />
          <NavLink component={RouterLink} to="/admin/stats" label="Platform stats" active={pathname.startsWith('/admin/stats')} onClick={onNavigate} />
        </>
      )}
      <NavLink href="/playground" label="GraphQL playground" component="a" />
    </Stack>
  );
}
