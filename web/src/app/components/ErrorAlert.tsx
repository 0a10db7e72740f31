// An error as the user sees it: a title for its code, the server's message, the code
// itself, and the request id for support. Every failed action and query renders this.
import { Alert, Code, Text } from '@mantine/core';
import { ERROR_TITLES, toAppError } from '../../graphql/errors';

export function ErrorAlert({ error, title }: { error: unknown; title?: string }) {
  const e = toAppError(error);
  const retryAfter = e.extensions.retryAfter;
  return (
    <Alert color="red" variant="light" role="alert" data-code={e.code} title={title ?? ERROR_TITLES[e.code] ?? 'Request failed'}>
      <Text size="sm">{e.message}</Text>
      <Text size="xs" c="dimmed" mt={4}>
        Code <Code>{e.code}</Code>
        {typeof retryAfter === 'number' && <> · try again in {retryAfter} s</>}
        {e.requestId && (
          <>
            {' '}
            · request id <Code>{e.requestId}</Code>
          </>
        )}
      </Text>
    </Alert>
  );
}
