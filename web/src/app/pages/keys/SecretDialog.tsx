// A new secret, shown this once: a copy button (the clipboard API; when the browser refuses
// it, the secret is selected for Ctrl+C) and a clear warning that it cannot be shown again.
import { Alert, Button, Group, Modal, Stack, Text, Textarea } from '@mantine/core';
import { useRef, useState } from 'react';

export interface ShownSecret {
  secret: string;
  name: string;
  /** Set after a rotation: when the previous secret stops working. */
  rotationEndsAt?: string | null | undefined;
  rotated?: boolean;
}

export function SecretDialog({ shown, onClose }: { shown: ShownSecret | null; onClose: () => void }) {
  const input = useRef<HTMLTextAreaElement>(null);
  const [copy, setCopy] = useState<'idle' | 'copied' | 'refused'>('idle');

  function selectAll() {
    input.current?.focus();
    input.current?.select();
  }

  async function copySecret() {
    if (!shown) return;
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(shown.secret);
      setCopy('copied');
    } catch {
      setCopy('refused');
      selectAll();
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
      title={shown?.rotated ? `New secret for “${shown.name}”` : `Your new key “${shown?.name ?? ''}”`}
      closeOnClickOutside={false}
      closeButtonProps={{ 'aria-label': 'Close' }}
      size="lg"
    >
      {shown && (
        <Stack gap="md" data-testid="secret-dialog">
          <Alert color="yellow" variant="light" title="Copy it now: it is shown only this once">
            <Text size="sm">
              tenantgate keeps only a hash of the key. Once you close this dialog nobody can show it again; if it
              is lost, rotate the key for a new one.
            </Text>
            {shown.rotated && (
              <Text size="sm" mt={4}>
                {shown.rotationEndsAt
                  ? `The previous secret keeps working until ${new Date(shown.rotationEndsAt).toLocaleString()}.`
                  : 'The previous secret has stopped working.'}
              </Text>
            )}
          </Alert>
          <Textarea
            ref={input}
            label="Secret key"
            value={shown.secret}
            readOnly
            autosize
            minRows={1}
            spellCheck={false}
            onFocus={(e) => e.currentTarget.select()}
            styles={{ input: { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace', wordBreak: 'break-all' } }}
            data-testid="secret-value"
          />
          <Text size="sm" role="status" aria-live="polite" c={copy === 'refused' ? 'red.8' : undefined}>
            {copy === 'copied' && 'Copied to the clipboard.'}
            {copy === 'refused' &&
              'The browser did not allow copying. The key is selected: press Ctrl+C (⌘C on a Mac) to copy it.'}
          </Text>
          <Group justify="flex-end" wrap="wrap">
            <Button variant={copy === 'copied' ? 'light' : 'filled'} onClick={() => void copySecret()}>
              {copy === 'copied' ? 'Copied' : 'Copy key'}
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
