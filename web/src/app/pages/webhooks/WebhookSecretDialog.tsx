// An endpoint's signing secret (`whsec_…`), shown this once after creating the endpoint or
// rotating its secret (see ShownOnceSecret).
import { Text } from '@mantine/core';

import { ShownOnceSecret } from '../../components/ShownOnceSecret';

export interface ShownWebhookSecret {
  secret: string;
  url: string;
  /** After a rotation: until when the previous secret also signs. */
  previousUntil?: string | null;
  rotated?: boolean;
}

export function WebhookSecretDialog({ shown, onClose }: { shown: ShownWebhookSecret | null; onClose: () => void }) {
  return (
    <ShownOnceSecret
      secret={shown?.secret ?? null}
      title={shown?.rotated ? 'New signing secret' : 'Endpoint added: its signing secret'}
      label="Signing secret"
      copyLabel="Copy secret"
      noun="secret"
      testId="webhook-secret-dialog"
      onClose={onClose}
      hint={
        <>
          <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
            Your receiver at {shown?.url} verifies each delivery’s webhook-signature header with this secret (any
            Standard Webhooks library does). If it is lost, rotate the secret for a new one.
          </Text>
          {shown?.rotated && shown.previousUntil && (
            <Text size="sm" mt={4}>
              Until {new Date(shown.previousUntil).toLocaleString()} every delivery carries a signature by the previous
              secret too, so your receiver can switch without missing one.
            </Text>
          )}
        </>
      }
    />
  );
}
