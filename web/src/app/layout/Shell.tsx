// The signed-in frame: header (brand, workspace switcher, account menu), navigation, the
// banners that concern every page (suspension, deletion, unverified email), and the page.
import { Alert, AppShell, Burger, Button, Group, Menu, Text, UnstyledButton } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Suspense, useEffect } from 'react';
import { Link, Navigate, Outlet, useLocation } from 'react-router';
import { useQuery } from 'urql';
import { useAuth } from '../auth/AuthProvider';
import { ViewerDocument } from '../auth/viewer';
import { Failed, Loading } from '../components/PageState';
import { hasCode } from '../../graphql/errors';
import { Nav } from './Nav';
import { BrandTheme } from './BrandTheme';
import { TenantSwitcher } from './TenantSwitcher';
import { VerifyEmailBanner } from './VerifyEmailBanner';

export function Shell() {
  const { status, signOut } = useAuth();
  const location = useLocation();
  const [opened, { toggle, close }] = useDisclosure();
  const [viewer, reexecute] = useQuery({ query: ViewerDocument, pause: status !== 'signedIn' });

  const ended = status === 'signedIn' && !viewer.fetching && !viewer.error && viewer.data && viewer.data.viewer === null;
  useEffect(() => {
    if (ended || hasCode(viewer.error, 'UNAUTHENTICATED')) void signOut('Your session has ended. Sign in again.');
  }, [ended, viewer.error, signOut]);

  if (status === 'booting') return <Loading label="Signing you in…" />;
  if (status === 'signedOut') {
    const next = location.pathname + location.search;
    return <Navigate to={next === '/' ? '/auth/sign-in' : `/auth/sign-in?next=${encodeURIComponent(next)}`} replace />;
  }
  const v = viewer.data?.viewer;
  if (!v) {
    return viewer.error ? <Failed error={viewer.error} retry={() => reexecute({ requestPolicy: 'network-only' })} /> : <Loading />;
  }
  const tenant = v.tenant;
  const brand = tenant?.branding.displayName || tenant?.name || 'tenantgate';

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <BrandTheme primaryColor={tenant?.branding.primaryColor} />
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <UnstyledButton component={Link} to="/" aria-label={`${brand} home`}>
              <Group gap={8} wrap="nowrap">
                {tenant?.branding.logoUrl && <img src={tenant.branding.logoUrl} alt="" height={28} />}
                <Text fw={700} truncate maw={{ base: 110, sm: 180 }}>
                  {brand}
                </Text>
              </Group>
            </UnstyledButton>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <TenantSwitcher current={tenant?.id ?? null} memberships={v.memberships} />
            <Menu position="bottom-end" withinPortal>
              <Menu.Target>
                <Button variant="subtle" size="xs" aria-label="Account menu">
                  <Text size="xs" truncate maw={{ base: 100, sm: 160 }}>
                    {v.user.email}
                  </Text>
                </Button>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>{v.role ? `${v.role.toLowerCase()} of ${tenant?.name ?? ''}` : 'no workspace'}</Menu.Label>
                <Menu.Item component="a" href="/playground">
                  GraphQL playground
                </Menu.Item>
                <Menu.Item color="red" onClick={() => void signOut()}>
                  Sign out
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm">
        <Nav role={v.role ?? null} isPlatformAdmin={v.isPlatformAdmin} onNavigate={close} />
      </AppShell.Navbar>
      <AppShell.Main>
        {tenant?.status === 'SUSPENDED' && (
          <Alert color="red" mb="md" title="This workspace is suspended" role="alert">
            {tenant.statusReason ?? 'A platform admin suspended it.'} Its members and API keys are refused until it is
            reactivated.
          </Alert>
        )}
        {tenant?.status === 'PENDING_DELETION' && (
          <Alert color="orange" mb="md" title="This workspace is scheduled for deletion" role="alert">
            {tenant.statusReason ?? ''}
          </Alert>
        )}
        {!v.user.emailVerified && <VerifyEmailBanner email={v.user.email} />}
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
