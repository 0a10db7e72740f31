// The frame of the signed-out pages: a centred card under the product's name.
import { Anchor, Center, Container, Paper, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';

export function AuthLayout({ title, subtitle, children }: { title: string; subtitle?: ReactNode; children: ReactNode }) {
  return (
    <Container size={440} py={48} px="md">
      <Stack gap="lg">
        <Center>
          <Text fw={800} size="lg" component="a" href="/" c="inherit" td="none">
            tenantgate
          </Text>
        </Center>
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
