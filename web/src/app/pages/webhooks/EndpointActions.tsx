// What can be done to an endpoint, shared by the list and the endpoint's page: edit,
// enable or disable, rotate the secret (shown once), send a test event, delete (after a
// confirmation). `elements` holds the dialogs; `error` the last failed action's error.
import { Text } from '@mantine/core';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import { useState, type ReactNode } from 'react';
import { useMutation } from 'urql';
import { EndpointModal, type EditedEndpoint } from './EndpointModal';
import {
  DeleteWebhookEndpointDocument,
  RotateWebhookSecretDocument,
  SendTestWebhookDocument,
  UpdateWebhookEndpointDocument,
} from './documents';
import { WebhookSecretDialog, type ShownWebhookSecret } from './WebhookSecretDialog';

export interface EndpointRef extends EditedEndpoint {
  enabled: boolean;
}

function done(message: string) {
  notifications.show({ closeButtonProps: { 'aria-label': 'Dismiss' }, color: 'green', message });
}

export function useEndpointActions({ onChanged, onDeleted }: { onChanged?: () => void; onDeleted?: () => void } = {}): {
  create: () => void;
  edit: (e: EndpointRef) => void;
  toggle: (e: EndpointRef) => void;
  rotate: (e: EndpointRef) => void;
  sendTest: (e: EndpointRef) => void;
  remove: (e: EndpointRef) => void;
  busy: boolean;
  error: unknown;
  elements: ReactNode;
} {
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<EditedEndpoint | null>(null);
  const [shown, setShown] = useState<ShownWebhookSecret | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [updated, update] = useMutation(UpdateWebhookEndpointDocument);
  const [rotated, rotateSecret] = useMutation(RotateWebhookSecretDocument);
  const [tested, test] = useMutation(SendTestWebhookDocument);
  const [, deleteEndpoint] = useMutation(DeleteWebhookEndpointDocument);

  async function toggle(e: EndpointRef) {
    setError(null);
    const r = await update({ input: { id: e.id, enabled: !e.enabled } });
    if (r.error) return setError(r.error);
    onChanged?.();
    done(e.enabled ? 'Endpoint disabled: nothing is sent to it.' : 'Endpoint enabled.');
  }

  function rotate(e: EndpointRef) {
    setError(null);
    modals.openConfirmModal({
      title: 'Rotate the signing secret?',
      children: (
        <Text size="sm">
          A new secret is issued and shown once. For 24 hours every delivery is signed by both the old and the new
          secret, so your receiver can switch without missing one.
        </Text>
      ),
      labels: { confirm: 'Rotate secret', cancel: 'Cancel' },
      closeButtonProps: { 'aria-label': 'Close' },
      onConfirm: async () => {
        const r = await rotateSecret({ id: e.id });
        if (r.error) return setError(r.error);
        if (r.data) {
          const { secret, endpoint } = r.data.rotateWebhookSecret;
          onChanged?.();
          setShown({ secret, url: endpoint.url, rotated: true, previousUntil: endpoint.previousSecretExpiresAt });
        }
      },
    });
  }

  async function sendTest(e: EndpointRef) {
    setError(null);
    const r = await test({ id: e.id });
    if (r.error) return setError(r.error);
    onChanged?.();
    done('Test event queued: see it in the delivery log.');
  }

  function remove(e: EndpointRef) {
    setError(null);
    modals.openConfirmModal({
      title: 'Delete this endpoint?',
      children: (
        <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
          Nothing more is sent to {e.url}, and its delivery log is deleted. This cannot be undone.
        </Text>
      ),
      labels: { confirm: 'Delete endpoint', cancel: 'Cancel' },
      confirmProps: { color: 'red' },
      closeButtonProps: { 'aria-label': 'Close' },
      onConfirm: async () => {
        const r = await deleteEndpoint({ id: e.id });
        if (r.error) return setError(r.error);
        done('Endpoint deleted.');
        (onDeleted ?? onChanged)?.();
      },
    });
  }

  return {
    create: () => {
      setError(null);
      setCreating(true);
    },
    edit: (e) => {
      setError(null);
      setEditing(e);
    },
    toggle: (e) => void toggle(e),
    rotate,
    sendTest: (e) => void sendTest(e),
    remove,
    busy: updated.fetching || rotated.fetching || tested.fetching,
    error,
    elements: (
      <>
        <EndpointModal
          opened={creating || editing !== null}
          editing={editing}
          onClose={() => {
            setCreating(false);
            setEditing(null);
          }}
          onCreated={(secret, _id, url) => {
            setCreating(false);
            onChanged?.();
            setShown({ secret, url });
          }}
          onSaved={() => {
            setEditing(null);
            onChanged?.();
            done('Endpoint saved.');
          }}
        />
        <WebhookSecretDialog shown={shown} onClose={() => setShown(null)} />
      </>
    ),
  };
}
