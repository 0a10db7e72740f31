// The Settings page: the workspace's name, slug and branding (display name, logo, colours,
// support email) with a live preview. Admins and owners save through `updateTenant`; the
// other roles see the settings read-only. A server error lands on the field it names;
// a plan without custom branding gets PAYMENT_REQUIRED with the plan to upgrade to.
import { Alert, Anchor, Box, Button, Card, ColorInput, Grid, Group, Stack, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery } from 'urql';
import type { TenantSettingsQuery } from '../../../gql/graphql';
import { toAppError } from '../../../graphql/errors';
import { permissions, ViewerDocument } from '../../auth/viewer';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageHeader } from '../../components/PageHeader';
import { CustomDomainCard } from '../domains/CustomDomainCard';
import { ExportsCard } from '../exports/ExportsCard';
import { QueryState } from '../../components/PageState';
import { DangerZone } from '../erasure/DangerZone';
import { TenantSettingsDocument, UpdateTenantDocument } from './documents';
import { Preview } from './Preview';
import { changesOf, SERVER_FIELDS, settingsSchema, valuesOf, type SettingsValues } from './schema';

export function Settings() {
  const [viewer] = useQuery({ query: ViewerDocument });
  const canEdit = permissions(viewer.data?.viewer?.role).manageSettings;
  const [result, reexecute] = useQuery({ query: TenantSettingsDocument });
  return (
    <>
      <PageHeader
        title="Settings"
        description="Your workspace's name, address and look."
        example="settings"
      />
      <QueryState result={result} retry={() => reexecute({ requestPolicy: 'network-only' })}>
        {(data) => <SettingsForm tenant={data.tenant} canEdit={canEdit} />}
      </QueryState>
      {permissions(viewer.data?.viewer?.role).manageSettings && (
        <Box mt="xl" maw={860}>
          <CustomDomainCard />
        </Box>
      )}
      {permissions(viewer.data?.viewer?.role).exportData && (
        <Box mt="xl" maw={860}>
          <ExportsCard scope="tenant" />
        </Box>
      )}
      <Stack mt="xl" maw={720}>
        <DangerZone />
      </Stack>
    </>
  );
}

type Tenant = TenantSettingsQuery['tenant'];

function SettingsForm({ tenant, canEdit }: { tenant: Tenant; canEdit: boolean }) {
  const [saved, setSaved] = useState<SettingsValues>(() => valuesOf(tenant));
  const [update, save] = useMutation(UpdateTenantDocument);
  const [failure, setFailure] = useState<unknown>(null);
  const form = useForm<SettingsValues>({
    mode: 'controlled',
    initialValues: saved,
    validate: zod4Resolver(settingsSchema),
  });
  // Another tab or member changed the settings: follow while nothing is being edited.
  useEffect(() => {
    const now = valuesOf(tenant);
    if (!form.isDirty()) {
      form.setValues(now);
      form.resetDirty(now);
    }
    setSaved(now);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tenant]);

  const failed = failure ? toAppError(failure) : null;
  const upgradeTo = failed?.code === 'PAYMENT_REQUIRED' ? failed.extensions.upgradeTo : undefined;

  return (
    <form
      noValidate
      onSubmit={form.onSubmit(async (values) => {
        setFailure(null);
        const input = changesOf(saved, values);
        if (Object.keys(input).length === 0) {
          notifications.show({ message: 'Nothing changed.' });
          return;
        }
        const r = await save({ input });
        if (r.error) {
          setFailure(r.error);
          const e = toAppError(r.error);
          const named = typeof e.extensions.field === 'string' ? SERVER_FIELDS[e.extensions.field] : undefined;
          const field = named ?? (e.code === 'CONFLICT' && /slug/i.test(e.message) ? 'slug' : undefined);
          if (field) form.setFieldError(field, e.message);
          return;
        }
        if (r.data) {
          const now = valuesOf(r.data.updateTenant);
          setSaved(now);
          form.setValues(now);
          form.resetDirty(now);
          notifications.show({ color: 'green', title: 'Settings saved', message: 'Everyone in the workspace sees the change.' });
        }
      })}
    >
      <Grid gutter="lg">
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Stack gap="lg">
            {!canEdit && (
              <Alert color="gray" title="Read only">
                Only admins and owners change the workspace's settings.
              </Alert>
            )}
            <Card withBorder>
              <Title order={2} size="h4" mb="sm">
                Workspace
              </Title>
              <Stack gap="sm">
                <TextInput label="Name" required readOnly={!canEdit} {...form.getInputProps('name')} />
                <TextInput
                  label="Slug"
                  description="Lower-case letters, digits and dashes; unique across tenantgate."
                  required
                  readOnly={!canEdit}
                  autoComplete="off"
                  {...form.getInputProps('slug')}
                />
              </Stack>
            </Card>
            <Card withBorder>
              <Title order={2} size="h4" mb={4}>
                Branding
              </Title>
              <Text size="sm" c="dimmed" mb="sm">
                {tenant.plan.features.customBranding
                  ? 'The portal wears these for everyone in the workspace.'
                  : `Custom branding is not part of the ${tenant.plan.name} plan: saving it asks for an upgrade.`}
              </Text>
              <Stack gap="sm">
                <TextInput
                  label="Display name"
                  description="Shown instead of the name in the portal's header."
                  readOnly={!canEdit}
                  {...form.getInputProps('displayName')}
                />
                <TextInput
                  label="Logo URL"
                  description="An https:// address of an image, about 28 px high."
                  type="url"
                  readOnly={!canEdit}
                  {...form.getInputProps('logoUrl')}
                />
                <Group grow align="flex-start" wrap="wrap">
                  <ColorInput
                    label="Primary colour"
                    description="Buttons, links, the active page."
                    format="hex"
                    withEyeDropper={false}
                    readOnly={!canEdit}
                    placeholder="#4f46e5"
                    miw={200}
                    {...form.getInputProps('primaryColor')}
                  />
                  <ColorInput
                    label="Accent colour"
                    description="Highlights."
                    format="hex"
                    withEyeDropper={false}
                    readOnly={!canEdit}
                    placeholder="#f59f00"
                    miw={200}
                    {...form.getInputProps('accentColor')}
                  />
                </Group>
                <TextInput
                  label="Support email"
                  description="Where your members get help."
                  type="email"
                  readOnly={!canEdit}
                  {...form.getInputProps('supportEmail')}
                />
              </Stack>
            </Card>
            {failed && (
              <Stack gap={6}>
                <ErrorAlert error={failure} />
                {failed.code === 'PAYMENT_REQUIRED' && (
                  <Text size="sm" data-testid="upgrade-hint">
                    {typeof upgradeTo === 'string'
                      ? `The ${upgradeTo.charAt(0).toUpperCase()}${upgradeTo.slice(1)} plan includes it. `
                      : 'A plan with custom branding includes it. '}
                    <Anchor component={Link} to="/billing">
                      Compare plans and upgrade
                    </Anchor>
                  </Text>
                )}
              </Stack>
            )}
            {canEdit && (
              <Group>
                <Button type="submit" loading={update.fetching}>
                  Save changes
                </Button>
                <Button
                  variant="default"
                  disabled={!form.isDirty()}
                  onClick={() => {
                    form.setValues(saved);
                    form.resetDirty(saved);
                    setFailure(null);
                  }}
                >
                  Discard changes
                </Button>
              </Group>
            )}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Title order={2} size="h4" mb="sm">
            Preview
          </Title>
          <Preview values={form.values} />
        </Grid.Col>
      </Grid>
    </form>
  );
}
