// Previous / next through a connection, keeping the cursors seen so far.
import { Button, Group, Text } from '@mantine/core';
import { useState } from 'react';
import type { Pages } from './roles';

export function usePages(): Pages {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  return {
    after: stack[stack.length - 1] ?? null,
    page: stack.length,
    next: (cursor) => {
      if (cursor) setStack((s) => [...s, cursor]);
    },
    previous: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
  };
}

export function Pager({
  pages,
  hasNextPage,
  endCursor,
  label,
}: {
  pages: Pages;
  hasNextPage: boolean;
  endCursor: string | null | undefined;
  label: string;
}) {
  if (pages.page === 1 && !hasNextPage) return null;
  return (
    <Group justify="space-between" mt="sm" component="nav" aria-label={`${label} pages`}>
      <Text size="sm" c="dimmed">
        Page {pages.page}
      </Text>
      <Group gap="xs">
        <Button variant="default" size="xs" disabled={pages.page === 1} onClick={pages.previous}>
          Previous
        </Button>
        <Button variant="default" size="xs" disabled={!hasNextPage} onClick={() => pages.next(endCursor)}>
          Next
        </Button>
      </Group>
    </Group>
  );
}
