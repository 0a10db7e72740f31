// A secret shown this once (an API key, a webhook signing secret): a copy button (the
// clipboard API; when the browser refuses it, the secret is selected for Ctrl+C) and a clear
// warning that it cannot be shown again. Neither Escape nor a click outside closes it (a
// shown-once secret must not vanish by accident): only its buttons do.
import { Alert, Button, Group, Modal, Stack, Text, Textarea } from '@mantine/core';
import { type ReactNode, useRef, useState } from 'react';

export interface ShownOnceSecretProps {
  /** The secret; `null` closes the dialog. */
  secret: string | null;
  title: string;
  /** What the secret is for and what to do if it is lost (inside the warning). */
  hint: ReactNode;
  /** The field's label, e.g. "Secret key". */
  label: string;
  /** The copy button's label, e.g. "Copy key". */
  copyLabel: string;
  /** What the secret is called in the "select it and press Ctrl+C" message, e.g. "key". */
  noun: string;
  /** `data-testid` of the dialog's body; its field is `<testId minus "-dialog">-value`. */
  testId: string;
  onClose: () => void;
}

export function ShownOnceSecret({ secret, title, hint, label, copyLabel, noun, testId, onClose }: ShownOnceSecretProps) {
  const input = useRef<HTMLTextAreaElement>(null);
  const [copy, setCopy] = useState<'idle' | 'copied' | 'refused'>('idle');

  async function copySecret() {
    if (secret === null) return;
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(secret);
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
      opened={secret !== null}
      onClose={close}
      title={title}
      closeOnClickOutside={false}
      closeOnEscape={false}
      closeButtonProps={{ 'aria-label': 'Close' }}
      size="lg"
    >
      {secret !== null && (
        <Stack gap="md" data-testid={testId}>
          <Alert color="yellow" variant="light" title="Copy it now: it is shown only this once">
            {hint}
          </Alert>
          <Textarea
            ref={input}
            label={label}
            value={secret}
            readOnly
            autosize
            minRows={1}
            spellCheck={false}
            onFocus={(e) => e.currentTarget.select()}
            styles={{ input: { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace', wordBreak: 'break-all' } }}
            data-testid={`${testId.replace(/-dialog$/, '')}-value`}
          />
          <Text size="sm" role="status" aria-live="polite" c={copy === 'refused' ? 'red.8' : undefined}>
            {copy === 'copied' && 'Copied to the clipboard.'}
            {copy === 'refused' &&
              `The browser did not allow copying. The ${noun} is selected: press Ctrl+C (⌘C on a Mac) to copy it.`}
          </Text>
          <Group justify="flex-end" wrap="wrap">
            <Button variant={copy === 'copied' ? 'light' : 'filled'} onClick={() => void copySecret()}>
              {copy === 'copied' ? 'Copied' : copyLabel}
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
