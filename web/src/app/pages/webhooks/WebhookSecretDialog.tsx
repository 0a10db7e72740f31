// An endpoint's signing secret (`whsec_…`), shown this once after creating the endpoint or
// rotating its secret: a copy button (when the browser refuses the clipboard, the secret is
// selected for Ctrl+C) and a clear warning that it cannot be shown again.
import { Alert, Button, Group, Modal, Stack, Text, Textarea } from '@mantine/core';
import { useRef, useState } from 'react';

export interface ShownWebhookSecret {
  secret: string;
  url: string;
  /** After a rotation: until when the previous secret also signs. */
  previousUntil?: string | null;
  rotated?: boolean;
}

export function WebhookSecretDialog({ shown, onClose }: { shown: ShownWebhookSecret | null; onClose: () => void }) {
  const input = useRef<HTMLTextAreaElement>(null);
  const [copy, setCopy] = useState<'idle' | 'copied' | 'refused'>('idle');

  async function copySecret() {
    if (!shown) return;
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(shown.secret);
      setCopy('copied');
    } catch {
      setCopy('refused');
      input.current?.focus();
      input.current?.select();
    }
  }

  function close() {
    setCopy('idle');
    onClose();
  }

  return (
    <Modal
      opened={shown !== null}
      onClose={close}
      title={shown?.rotated ? 'New signing secret' : 'Endpoint added: its signing secret'}
      closeOnClickOutside={false}
      closeOnEscape={false}
      closeButtonProps={{ 'aria-label': 'Close' }}
      size="lg"
    >
      {shown && (
        <Stack gap="md" data-testid="webhook-secret-dialog">
          <Alert color="yellow" variant="light" title="Copy it now: it is shown only this once">
            <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
              Your receiver at {shown.url} verifies each delivery’s webhook-signature header with this secret (any
              Standard Webhooks library does). If it is lost, rotate the secret for a new one.
            </Text>
            {shown.rotated && shown.previousUntil && (
              <Text size="sm" mt={4}>
                Until {new Date(shown.previousUntil).toLocaleString()} every delivery carries a signature by the previous
                secret too, so your receiver can switch without missing one.
              </Text>
            )}
          </Alert>
          <Textarea
            ref={input}
            label="Signing secret"
            value={shown.secret}
            readOnly
            autosize
            minRows={1}
            spellCheck={false}
            onFocus={(e) => e.currentTarget.select()}
            styles={{ input: { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace', wordBreak: 'break-all' } }}
            data-testid="webhook-secret-value"
          />
          <Text size="sm" role="status" aria-live="polite" c={copy === 'refused' ? 'red.8' : undefined}>
            {copy === 'copied' && 'Copied to the clipboard.'}
            {copy === 'refused' && 'The browser did not allow copying. The secret is selected: press Ctrl+C (⌘C on a Mac).'}
          </Text>
          <Group justify="flex-end" wrap="wrap">
            <Button variant={copy === 'copied' ? 'light' : 'filled'} onClick={() => void copySecret()}>
              {copy === 'copied' ? 'Copied' : 'Copy secret'}
            </Button>
            <Button variant="default" onClick={close}>
              I have stored it
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
