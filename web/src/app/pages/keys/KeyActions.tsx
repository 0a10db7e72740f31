// Rotating and revoking a key, shared by the list and the key's own page: rotation asks for
// a grace period and shows the new secret once; revocation asks for confirmation first.
import { Button, Group, Modal, Select, Stack, Text } from '@mantine/core';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import { useState, type ReactNode } from 'react';
import { useMutation } from 'urql';
import { ErrorAlert } from '../../components/ErrorAlert';
import { RevokeApiKeyDocument, RotateApiKeyDocument } from './documents';
import { GRACE_PERIODS } from './format';
import { SecretDialog, type ShownSecret } from './SecretDialog';

export interface KeyRef {
  id: string;
  name: string;
  displayPrefix: string;
}

function RotateModal({ target, onClose, onRotated }: { target: KeyRef | null; onClose: () => void; onRotated: (s: ShownSecret) => void }) {
  const [grace, setGrace] = useState('86400');
  const [result, rotate] = useMutation(RotateApiKeyDocument);
  const [error, setError] = useState<unknown>(null);

  function close() {
    setError(null);
    setGrace('86400');
    onClose();
  }

  async function submit() {
    if (!target) return;
    setError(null);
    const r = await rotate({ id: target.id, gracePeriodSeconds: Number(grace) });
    if (r.error) {
      setError(r.error);
      return;
    }
    if (r.data) {
      const { secret, apiKey } = r.data.rotateApiKey;
      setGrace('86400');
      onRotated({ secret, name: apiKey.name, rotated: true, rotationEndsAt: apiKey.rotationEndsAt });
    }
  }

  return (
    <Modal opened={target !== null} onClose={close} title={`Rotate “${target?.name ?? ''}”`} closeButtonProps={{ 'aria-label': 'Close' }}>
      <Stack gap="md">
        <Text size="sm">
          A new secret replaces <code>{target?.displayPrefix}…</code>. Give your systems time to switch: the old secret
          keeps working for the grace period.
        </Text>
        <Select
          label="Grace period for the old secret"
          data={GRACE_PERIODS}
          value={grace}
          onChange={(v) => v && setGrace(v)}
          allowDeselect={false}
        />
        {error != null && <ErrorAlert error={error} />}
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button onClick={() => void submit()} loading={result.fetching}>
            Rotate key
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/**
 * The actions, their dialogs (render `elements`) and the last failed action's error;
 * `onChanged` runs after a key changed (e.g. to re-read a filtered list).
 */
export function useKeyActions(onChanged?: () => void): {
  rotate: (key: KeyRef) => void;
  revoke: (key: KeyRef) => void;
  showSecret: (s: ShownSecret) => void;
  error: unknown;
  elements: ReactNode;
} {
  const [shown, setShown] = useState<ShownSecret | null>(null);
  const [rotating, setRotating] = useState<KeyRef | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [, revokeKey] = useMutation(RevokeApiKeyDocument);

  function revoke(key: KeyRef) {
    setError(null);
    modals.openConfirmModal({
      title: `Revoke “${key.name}”?`,
      children: (
        <Text size="sm">
          Every call made with <code>{key.displayPrefix}…</code> is refused at once, everywhere. This cannot be undone.
        </Text>
      ),
      labels: { confirm: 'Revoke key', cancel: 'Cancel' },
      confirmProps: { color: 'red' },
      closeButtonProps: { 'aria-label': 'Close' },
      onConfirm: async () => {
        const r = await revokeKey({ id: key.id });
        if (r.error) {
          setError(r.error);
          return;
        }
        onChanged?.();
        notifications.show({ closeButtonProps: { 'aria-label': 'Dismiss' }, color: 'green', message: `Key “${key.name}” revoked: it no longer works.` });
      },
    });
  }

  return {
    rotate: (key) => {
      setError(null);
      setRotating(key);
    },
    revoke,
    showSecret: setShown,
    error,
    elements: (
      <>
        <RotateModal
          target={rotating}
          onClose={() => setRotating(null)}
          onRotated={(s) => {
            setRotating(null);
            onChanged?.();
            setShown(s);
          }}
        />
        <SecretDialog shown={shown} onClose={() => setShown(null)} />
      </>
    ),
  };
}
