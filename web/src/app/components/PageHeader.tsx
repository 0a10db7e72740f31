// A page's title, its one-line purpose, its actions, and "Open in playground" with example
// operations for this page (the playground picks up the session's token itself).
import { Anchor, Group, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';

export function PageHeader({
  title,
  description,
  example,
  actions,
}: {
  title: string;
  description?: ReactNode;
  /** The playground's example set for this page (`/playground?example=…`). */
  example?: string;
  actions?: ReactNode;
}) {
  return (
    <Group justify="space-between" align="flex-start" mb="lg" wrap="wrap" gap="sm">
      <Stack gap={2}>
        <Title order={1} size="h2">
          {title}
        </Title>
        {description && (
          <Text c="dimmed" size="sm">
            {description}
          </Text>
        )}
      </Stack>
      <Group gap="sm">
        {actions}
        {example && (
          <Anchor href={`/playground?example=${encodeURIComponent(example)}`} size="sm">
            Open in playground
          </Anchor>
        )}
      </Group>
    </Group>
  );
}
