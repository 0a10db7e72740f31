// Creating or editing an endpoint: its URL, a description, and the events it receives
// (every event, those added later included, or the ones ticked). Creating returns the
// signing secret, which the caller shows once.
import { Button, Checkbox, Group, Modal, Radio, SimpleGrid, Stack, Text, Textarea, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useEffect, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { z } from 'zod';
import { ErrorAlert } from '../../components/ErrorAlert';
import { Loading } from '../../components/PageState';
import { CreateWebhookEndpointDocument, UpdateWebhookEndpointDocument, WebhookEventTypesDocument } from './documents';
import { groupEventTypes } from './format';

const schema = z
  .object({
    url: z
      .string()
      .trim()
      .min(1, 'Enter the URL events are sent to')
      .max(2048, 'At most 2,048 characters')
      .refine((v) => {
        if (v === '') return true; // said above
        try {
          const u = new URL(v);
          return u.protocol === 'https:' || u.protocol === 'http:';
        } catch {
          return false;
        }
      }, 'Enter a full URL, e.g. https://example.com/webhooks'),
    description: z.string().max(500, 'At most 500 characters'),
    receive: z.enum(['all', 'chosen']),
    eventTypes: z.array(z.string()),
  })
  .superRefine((v, ctx) => {
    if (v.receive === 'chosen' && v.eventTypes.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['eventTypes'], message: 'Tick at least one event, or choose every event' });
    }
  });

type Values = z.infer<typeof schema>;

/** What the modal edits (absent: a new endpoint). */
export interface EditedEndpoint {
  id: string;
  url: string;
  description: string;
  eventTypes: readonly string[];
}

export function EndpointModal({
  opened,
  editing,
  onClose,
  onCreated,
  onSaved,
}: {
  opened: boolean;
  editing?: EditedEndpoint | null;
  onClose: () => void;
  onCreated?: (secret: string, id: string, url: string) => void;
  onSaved?: () => void;
}) {
  const [types] = useQuery({ query: WebhookEventTypesDocument, pause: !opened });
  const [created, create] = useMutation(CreateWebhookEndpointDocument);
  const [updated, update] = useMutation(UpdateWebhookEndpointDocument);
  const form = useForm<Values>({
    initialValues: { url: '', description: '', receive: 'all', eventTypes: [] },
    validate: zod4Resolver(schema),
  });

  // The last mutation's error shows only after a submit in this opening
  // (urql keeps the result: reopening would show a stale error).
  const [submitted, setSubmitted] = useState(false);

  useEffect(() => {
    if (!opened) return;
    setSubmitted(false);
    if (editing) {
      form.setValues({
        url: editing.url,
        description: editing.description,
        receive: editing.eventTypes.length ? 'chosen' : 'all',
        eventTypes: [...editing.eventTypes],
      });
    } else {
      form.reset();
    }
    // Only when the dialog opens, or opens for another endpoint.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [opened, editing?.id]);

  function close() {
    form.reset();
    onClose();
  }

  async function submit(v: Values) {
    setSubmitted(true);
    const eventTypes = v.receive === 'all' ? [] : v.eventTypes;
    const description = v.description.trim();
    if (editing) {
      const r = await update({ input: { id: editing.id, url: v.url.trim(), description, eventTypes } });
      if (r.data) {
        form.reset();
        onSaved?.();
      }
      return;
    }
    const r = await create({ input: { url: v.url.trim(), description: description || null, eventTypes } });
    if (r.data) {
      const { secret, endpoint } = r.data.createWebhookEndpoint;
      form.reset();
      onCreated?.(secret, endpoint.id, endpoint.url);
    }
  }

  const result = editing ? updated : created;
  return (
    <Modal
      opened={opened}
      onClose={close}
      title={editing ? 'Edit the endpoint' : 'Add a webhook endpoint'}
      size="lg"
      closeButtonProps={{ 'aria-label': 'Close' }}
    >
      <form noValidate onSubmit={form.onSubmit((v) => void submit(v))}>
        <Stack gap="md">
          <TextInput
            label="Endpoint URL"
            description="Events are POSTed here, signed by the Standard Webhooks spec."
            placeholder="https://example.com/webhooks/tenantgate"
            type="url"
            required
            data-autofocus
            {...form.getInputProps('url')}
          />
          <Textarea label="Description (optional)" autosize minRows={1} maxRows={4} {...form.getInputProps('description')} />
          <Radio.Group label="Events to send" {...form.getInputProps('receive')}>
            <Stack mt="xs" gap="xs">
              <Radio value="all" label="Every event" description="Event types added later included" />
              <Radio value="chosen" label="Only the events I choose" />
            </Stack>
          </Radio.Group>
          {form.values.receive === 'chosen' &&
            (types.error ? (
              <ErrorAlert error={types.error} />
            ) : !types.data ? (
              <Loading label="Loading the event types…" />
            ) : (
              <Checkbox.Group label="Event types" {...form.getInputProps('eventTypes')}>
                <SimpleGrid cols={{ base: 1, sm: 2 }} mt="xs" spacing="md">
                  {groupEventTypes(types.data.webhookEventTypes).map((g) => (
                    <Stack key={g.group} gap={6} role="group" aria-label={g.group}>
                      <Text size="sm" fw={600}>
                        {g.group}
                      </Text>
                      {g.items.map((t) => (
                        <Checkbox key={t.value} value={t.value} label={<code>{t.label}</code>} aria-label={t.value} />
                      ))}
                    </Stack>
                  ))}
                </SimpleGrid>
              </Checkbox.Group>
            ))}
          {submitted && result.error && <ErrorAlert error={result.error} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={result.fetching}>
              {editing ? 'Save changes' : 'Add endpoint'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
