// An address the app does not know.
import { Anchor, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';

export function NotFound() {
  return (
    <Stack gap="xs" py="xl">
      <Title order={1} size="h2">
        Page not found
      </Title>
      <Text c="dimmed">There is nothing at this address.</Text>
      <Anchor component={Link} to="/">
        Back to the overview
      </Anchor>
    </Stack>
  );
}
