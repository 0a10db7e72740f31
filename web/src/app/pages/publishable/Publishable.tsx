// Publishable keys and allowed origins: what the workspace's own web pages (widgets) use
// to call /v1/public/{key}/check and /branding from the browser. Keys are not secrets (they
// are shown every time, as Stripe shows publishable keys); origins decide which sites may
// use them. Admins and owners only; the server checks again.
import { Badge, Button, Card, Code, CopyButton, Group, Select, Stack, Table, Text, TextInput, Title, VisuallyHidden } from '@mantine/core';
import { useForm } from '@mantine/form';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { z } from 'zod';
import type { ApiKeyEnvironment, PublishableQuery } from '../../../gql/graphql';
import { toAppError } from '../../../graphql/errors';
import { permissions, ViewerDocument } from '../../auth/viewer';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageHeader } from '../../components/PageHeader';
import { Empty, QueryState } from '../../components/PageState';
import { EnvironmentBadge, when } from '../keys/format';
import {
  AddAllowedOriginDocument,
  CreatePublishableKeyDocument,
  PublishableDocument,
  RemoveAllowedOriginDocument,
  RevokePublishableKeyDocument,
} from './documents';

type Tenant = PublishableQuery['tenant'];

export function Publishable() {
  const [viewer] = useQuery({ query: ViewerDocument });
  const canManage = permissions(viewer.data?.viewer?.role).manageKeys;
  const [result, reexecute] = useQuery({ query: PublishableDocument, pause: !canManage });
  const retry = () => reexecute({ requestPolicy: 'network-only' });
  return (
    <>
      <PageHeader
        title="Publishable keys"
        description="Keys and origins for your own web pages: widgets call /v1/public/{key}/check and /branding from the browser."
        example="keys"
      />
      {!canManage ? (
        <Card withBorder>
          <Empty title="Admins and owners only">Ask an admin or owner of this workspace to manage publishable keys.</Empty>
        </Card>
      ) : (
        <QueryState result={result} retry={retry}>
          {(data) => (
            <Stack gap="xl">
              <KeysCard tenant={data.tenant} refresh={retry} />
              <OriginsCard tenant={data.tenant} refresh={retry} />
            </Stack>
          )}
        </QueryState>
      )}
    </>
  );
}

const keySchema = z.object({
  name: z.string().trim().min(1, 'Give the key a name').max(100, 'At most 100 characters'),
  environment: z.enum(['LIVE', 'TEST']),
});
type KeyValues = z.infer<typeof keySchema>;

function KeysCard({ tenant, refresh }: { tenant: Tenant; refresh: () => void }) {
  const [created, create] = useMutation(CreatePublishableKeyDocument);
  const [, revoke] = useMutation(RevokePublishableKeyDocument);
  const [error, setError] = useState<unknown>(null);
  const form = useForm<KeyValues>({
    mode: 'controlled',
    initialValues: { name: '', environment: 'LIVE' },
    validate: zod4Resolver(keySchema),
  });
  const keys = tenant.publishableKeys;

  async function submit(values: KeyValues) {
    setError(null);
    const r = await create({ input: { name: values.name.trim(), environment: values.environment as ApiKeyEnvironment } });
    if (r.error) {
      const e = toAppError(r.error);
      if (e.extensions.field === 'name') form.setFieldError('name', e.message);
      else setError(r.error);
      return;
    }
    form.reset();
    notifications.show({ closeButtonProps: { 'aria-label': 'Dismiss' }, color: 'green', message: `Publishable key “${values.name.trim()}” created.` });
    refresh();
  }

  function confirmRevoke(k: { id: string; name: string }) {
    modals.openConfirmModal({
      title: `Revoke “${k.name}”?`,
      children: <Text size="sm">Pages that use this key stop working at once. This cannot be undone.</Text>,
      labels: { confirm: 'Revoke key', cancel: 'Cancel' },
      confirmProps: { color: 'red.9' },
      onConfirm: () => {
        void revoke({ id: k.id }).then((r) => {
          if (r.error) {
            setError(r.error);
            return;
          }
          notifications.show({ closeButtonProps: { 'aria-label': 'Dismiss' }, color: 'green', message: `Key “${k.name}” revoked: it no longer works.` });
          refresh();
        });
      },
    });
  }

  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">
        Keys
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        A publishable key is safe in a web page: it can only ask whether the workspace is active and within its quota,
        and read its public branding, from an allowed origin. Up to 10 active keys.
      </Text>
      <form onSubmit={form.onSubmit((v) => void submit(v))} aria-label="Create a publishable key">
        <Group align="flex-end" gap="sm" wrap="wrap" mb="md">
          <TextInput label="Name" placeholder="Pricing page widget" w={260} {...form.getInputProps('name')} />
          <Select
            label="Environment"
            data={[
              { value: 'LIVE', label: 'Live' },
              { value: 'TEST', label: 'Test' },
            ]}
            allowDeselect={false}
            w={140}
            {...form.getInputProps('environment')}
          />
          <Button type="submit" loading={created.fetching} data-testid="create-publishable-key">
            Create key
          </Button>
        </Group>
      </form>
      {error != null && <ErrorAlert error={error} />}
      {keys.length === 0 ? (
        <Empty title="No publishable keys yet">Create one for each site or widget that calls tenantgate from the browser.</Empty>
      ) : (
        <Table.ScrollContainer minWidth={720}>
          <Table striped verticalSpacing="sm" aria-label="Publishable keys">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Key</Table.Th>
                <Table.Th>Environment</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {keys.map((k) => (
                <Table.Tr key={k.id}>
                  <Table.Td>{k.name}</Table.Td>
                  <Table.Td>
                    <Code style={{ wordBreak: 'break-all' }}>{k.key}</Code>
                  </Table.Td>
                  <Table.Td>
                    <EnvironmentBadge environment={k.environment} />
                  </Table.Td>
                  <Table.Td>{when(k.createdAt)}</Table.Td>
                  <Table.Td>
                    {k.revokedAt ? (
                      <Badge color="gray.8" variant="filled" autoContrast>
                        revoked
                      </Badge>
                    ) : (
                      <Group gap="xs" wrap="nowrap">
                        <CopyButton value={k.key}>
                          {({ copied, copy }) => (
                            <Button size="xs" variant="default" onClick={copy} aria-label={`Copy the key “${k.name}”`}>
                              {copied ? 'Copied' : 'Copy'}
                            </Button>
                          )}
                        </CopyButton>
                        <Button size="xs" color="red.9" variant="outline" onClick={() => confirmRevoke(k)} aria-label={`Revoke “${k.name}”`}>
                          Revoke
                        </Button>
                      </Group>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Card>
  );
}

const originSchema = z.object({
  origin: z
    .string()
    .trim()
    .min(1, 'Enter an origin, like https://app.example.com')
    .max(300, 'At most 300 characters')
    .regex(/^https?:\/\//i, 'Start with https:// (or http:// for localhost)')
    .refine((v) => !v.includes('*'), 'Wildcards are not allowed: list each origin'),
});
type OriginValues = z.infer<typeof originSchema>;

function OriginsCard({ tenant, refresh }: { tenant: Tenant; refresh: () => void }) {
  const [added, add] = useMutation(AddAllowedOriginDocument);
  const [, remove] = useMutation(RemoveAllowedOriginDocument);
  const [error, setError] = useState<unknown>(null);
  const form = useForm<OriginValues>({
    mode: 'controlled',
    initialValues: { origin: '' },
    validate: zod4Resolver(originSchema),
  });
  const origins = tenant.allowedOrigins;

  async function submit(values: OriginValues) {
    setError(null);
    const r = await add({ origin: values.origin.trim() });
    if (r.error) {
      const e = toAppError(r.error);
      if (e.extensions.field === 'origin' || e.code === 'CONFLICT') form.setFieldError('origin', e.message);
      else setError(r.error);
      return;
    }
    form.reset();
    notifications.show({ closeButtonProps: { 'aria-label': 'Dismiss' }, color: 'green', message: `${r.data?.addAllowedOrigin.origin ?? ''} may use your publishable keys.` });
    refresh();
  }

  function confirmRemove(origin: string) {
    modals.openConfirmModal({
      title: `Remove ${origin}?`,
      children: <Text size="sm">Pages on this origin can no longer use your publishable keys.</Text>,
      labels: { confirm: 'Remove origin', cancel: 'Cancel' },
      confirmProps: { color: 'red.9' },
      onConfirm: () => {
        void remove({ origin }).then((r) => {
          if (r.error) {
            setError(r.error);
            return;
          }
          notifications.show({ closeButtonProps: { 'aria-label': 'Dismiss' }, color: 'green', message: `${origin} removed: its pages can no longer use your keys.` });
          refresh();
        });
      },
    });
  }

  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">
        Allowed origins
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        Only pages on these origins may use the keys above (scheme, host and port, no path; https, or http for localhost
        during development). Up to 50.
      </Text>
      <form onSubmit={form.onSubmit((v) => void submit(v))} aria-label="Add an allowed origin">
        <Group align="flex-start" gap="sm" wrap="wrap" mb="md">
          <TextInput label="Origin" placeholder="https://app.example.com" w={320} {...form.getInputProps('origin')} />
          <Button type="submit" loading={added.fetching} mt={25} data-testid="add-origin">
            Add origin
          </Button>
        </Group>
      </form>
      {error != null && <ErrorAlert error={error} />}
      {origins.length === 0 ? (
        <Empty title="No allowed origins yet">Add the origin of each site that embeds your widgets.</Empty>
      ) : (
        <Table.ScrollContainer minWidth={420}>
          <Table striped verticalSpacing="sm" aria-label="Allowed origins">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Origin</Table.Th>
                <Table.Th>Added</Table.Th>
                <Table.Th>
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {origins.map((o) => (
                <Table.Tr key={o.origin}>
                  <Table.Td>
                    <Code>{o.origin}</Code>
                  </Table.Td>
                  <Table.Td>{when(o.createdAt)}</Table.Td>
                  <Table.Td>
                    <Button size="xs" color="red.9" variant="outline" onClick={() => confirmRemove(o.origin)} aria-label={`Remove ${o.origin}`}>
                      Remove
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Card>
  );
}
