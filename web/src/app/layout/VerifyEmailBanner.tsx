// The unverified-email banner, with a button that mails the confirmation link again.
import { Alert, Button, Group, Text } from '@mantine/core';
import { useState } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../../gql';
import { ErrorAlert } from '../components/ErrorAlert';

export const RequestEmailVerificationDocument = graphql(`
  mutation RequestEmailVerification {
    requestEmailVerification
  }
`);

export function VerifyEmailBanner({ email }: { email: string }) {
  const [result, request] = useMutation(RequestEmailVerificationDocument);
  const [sent, setSent] = useState(false);
  return (
    <Alert color="yellow" mb="md" title="Confirm your email address">
      <Text size="sm">
        We sent a link to {email}. Some actions (inviting members) wait for it.
      </Text>
      <Group gap="sm" mt="xs">
        <Button
          size="xs"
          variant="default"
          loading={result.fetching}
          onClick={async () => {
            const r = await request({});
            if (!r.error) setSent(true);
          }}
        >
          Resend the link
        </Button>
        {sent && !result.error && (
          <Text size="sm" role="status">
            Sent: check your inbox for a new link.
          </Text>
        )}
      </Group>
      {result.error && (
        <div style={{ marginTop: 8 }}>
          <ErrorAlert error={result.error} />
        </div>
      )}
    </Alert>
  );
}
