// The signed-in frame: header (brand, workspace switcher, account menu), navigation, the
// banners that concern every page (suspension, deletion, unverified email), and the page.
import { Alert, AppShell, Burger, Button, Container, Group, Menu, Stack, Text, Title, UnstyledButton } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { lazy, Suspense, useEffect } from 'react';
import { Link, Navigate, Outlet, useLocation } from 'react-router';
import { useQuery } from 'urql';
import { useAuth } from '../auth/AuthProvider';
import { ViewerDocument } from '../auth/viewer';
import { Failed, Loading } from '../components/PageState';
import { hasCode, toAppError } from '../../graphql/errors';
import { BillingBanner } from '../pages/billing/BillingBanner';
import { QuotaBanner } from '../pages/usage/QuotaBanner';
import { Nav } from './Nav';
import { BrandTheme } from './BrandTheme';
import { TenantSwitcher } from './TenantSwitcher';
import { VerifyEmailBanner } from './VerifyEmailBanner';

// Shown only while a workspace waits for its purge: loaded then.
const DeletionBanner = lazy(async () => ({ default: (await import('../pages/erasure/DeletionBanner')).DeletionBanner }));

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
  const checkAgain = () => reexecute({ requestPolicy: 'network-only' });
  if (!v) {
    if (hasCode(viewer.error, 'FORBIDDEN')) {
      // The workspace cannot be used (suspended, or scheduled for deletion): say why.
      return (
        <Container size="sm" py="xl">
          <SuspendedNotice reason={toAppError(viewer.error).message} onCheck={checkAgain} onSignOut={() => void signOut()} />
        </Container>
      );
    }
    return viewer.error ? <Failed error={viewer.error} retry={checkAgain} /> : <Loading />;
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
                <Menu.Item component={Link} to="/account">
                  Your account
                </Menu.Item>
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
        {v.tenantRefusal && location.pathname.startsWith('/admin') && (
          <Alert color="red" mb="md" title="Your workspace cannot be used" role="alert">
            {sentence(v.tenantRefusal)}
          </Alert>
        )}
        {tenant?.status === 'PENDING_DELETION' && (
          <Suspense fallback={null}>
            <DeletionBanner role={v.role ?? null} />
          </Suspense>
        )}
        {!v.user.emailVerified && <VerifyEmailBanner email={v.user.email} />}
        {tenant && !v.tenantRefusal && <BillingBanner role={v.role ?? null} />}
        {tenant && !v.tenantRefusal && <QuotaBanner role={v.role ?? null} />}
        {v.tenantRefusal && !location.pathname.startsWith('/admin') ? (
          // Every page of a suspended workspace would be refused: show why instead.
          <SuspendedNotice reason={v.tenantRefusal} onCheck={checkAgain} onSignOut={() => void signOut()} />
        ) : (
          <Suspense fallback={<Loading />}>
            <Outlet />
          </Suspense>
        )}
      </AppShell.Main>
    </AppShell>
  );
}

/** "this tenant is suspended: x" as a sentence. */
function sentence(text: string): string {
  const t = text.trim();
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.');
}

/**
 * What a member of a suspended (or to-be-deleted) workspace sees instead of its pages: the
 * server's refusal with the platform admin's reason.
 */
function SuspendedNotice({ reason, onCheck, onSignOut }: { reason: string; onCheck: () => void; onSignOut: () => void }) {
  const deletion = /pending deletion/.test(reason);
  return (
    <Stack gap="md" data-testid="suspended-notice" maw={640}>
      <Title order={1} size="h2">
        {deletion ? 'This workspace is scheduled for deletion' : 'This workspace is suspended'}
      </Title>
      <Alert color="red" title="What the platform says" role="alert">
        <Text size="sm" data-testid="suspended-reason">
          {sentence(reason)}
        </Text>
      </Alert>
      <Text size="sm">
        Its members and API keys are refused until a platform admin reactivates it. If you belong to other workspaces,
        switch to one from the menu at the top.
      </Text>
      <Group gap="sm">
        <Button onClick={onCheck}>Check again</Button>
        <Button variant="default" onClick={onSignOut}>
          Sign out
        </Button>
      </Group>
    </Stack>
  );
}
