// A new API key's secret, shown this once (see ShownOnceSecret).
import { Text } from '@mantine/core';

import { ShownOnceSecret } from '../../components/ShownOnceSecret';

export interface ShownSecret {
  secret: string;
  name: string;
  /** Set after a rotation: when the previous secret stops working. */
  rotationEndsAt?: string | null | undefined;
  rotated?: boolean;
}

export function SecretDialog({ shown, onClose }: { shown: ShownSecret | null; onClose: () => void }) {
  return (
    <ShownOnceSecret
      secret={shown?.secret ?? null}
      title={shown?.rotated ? `New secret for “${shown.name}”` : `Your new key “${shown?.name ?? ''}”`}
      label="Secret key"
      copyLabel="Copy key"
      noun="key"
      testId="secret-dialog"
      onClose={onClose}
      hint={
        <>
          <Text size="sm">
            tenantgate keeps only a hash of the key. Once you close this dialog nobody can show it again; if it is
            lost, rotate the key for a new one.
          </Text>
          {shown?.rotated && (
            <Text size="sm" mt={4}>
              {shown.rotationEndsAt
                ? `The previous secret keeps working until ${new Date(shown.rotationEndsAt).toLocaleString()}.`
                : 'The previous secret has stopped working.'}
            </Text>
          )}
        </>
      }
    />
  );
}
