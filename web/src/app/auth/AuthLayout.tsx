// The frame of the signed-out pages: a centred card under the product's name, or, on a
// tenant's own address (its subdomain or verified custom domain), under the tenant's name and
// logo in its primary colour (`hostTenant`, readable before anyone signs in).
import { Anchor, Box, Center, Container, Group, Paper, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { useQuery } from 'urql';
import { ErrorAlert } from '../components/ErrorAlert';
import { BrandTheme } from '../layout/BrandTheme';
import { HostTenantDocument } from './hostTenant';

export function AuthLayout({ title, subtitle, children }: { title: string; subtitle?: ReactNode; children: ReactNode }) {
  const [host] = useQuery({ query: HostTenantDocument });
  const tenant = host.data?.hostTenant;
  const name = tenant ? (tenant.displayName ?? tenant.name) : 'tenantgate';
  return (
    <Container size={440} py={48} px="md">
      {tenant && <BrandTheme primaryColor={tenant.primaryColor} />}
      <Stack gap="lg">
        <Center>
          {host.fetching && !host.data && !host.error ? (
            <Box h={28} aria-hidden="true" />
          ) : (
            <Group gap="sm" wrap="nowrap" data-testid="auth-brand" data-tenant={tenant?.id ?? ''}>
              {tenant?.logoUrl && <img src={tenant.logoUrl} alt="" height={28} style={{ maxWidth: 120, objectFit: 'contain' }} />}
              <Text fw={800} size="lg" component="a" href="/" c={tenant?.primaryColor ? 'var(--mantine-primary-color-filled)' : 'inherit'} td="none">
                {name}
              </Text>
            </Group>
          )}
        </Center>
        {host.error && <ErrorAlert error={host.error} title="This address serves no workspace" />}
        <Paper withBorder shadow="sm" p="lg" radius="md" component="main">
          <Stack gap="md">
            <Stack gap={4}>
              <Title order={1} size="h3">
                {title}
              </Title>
              {subtitle && (
                <Text size="sm" c="dimmed">
                  {subtitle}
                </Text>
              )}
            </Stack>
            {children}
          </Stack>
        </Paper>
        <Center>
          <Anchor href="/playground" size="sm">
            GraphQL playground
          </Anchor>
        </Center>
      </Stack>
    </Container>
  );
}
