// Loading, error and empty states, the same on every page.
import { Button, Center, Group, Loader, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { ErrorAlert } from './ErrorAlert';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Group gap="sm">
        <Loader size="sm" />
        <Text c="dimmed" size="sm">
          {label}
        </Text>
      </Group>
    </Center>
  );
}

export function Failed({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <Stack gap="sm">
      <ErrorAlert error={error} />
      {retry && (
        <Group>
          <Button variant="default" onClick={retry}>
            Try again
          </Button>
        </Group>
      )}
    </Stack>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Stack align="center" gap={4} py="xl">
      <Text fw={600}>{title}</Text>
      {children && (
        <Text c="dimmed" size="sm" ta="center">
          {children}
        </Text>
      )}
    </Stack>
  );
}

/**
 * Renders a query's states: its error (with a retry), a loader before the first data,
 * then `children(data)`.
 */
export function QueryState<T>({
  result,
  retry,
  children,
}: {
  result: { data?: T | undefined; error?: unknown; fetching: boolean };
  retry?: () => void;
  children: (data: T) => ReactNode;
}) {
  if (result.data !== undefined && result.data !== null) {
    return (
      <>
        {result.error ? <Failed error={result.error} {...(retry ? { retry } : {})} /> : null}
        {children(result.data)}
      </>
    );
  }
  if (result.error) return <Failed error={result.error} {...(retry ? { retry } : {})} />;
  return <Loading />;
}
