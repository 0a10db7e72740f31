// The Settings page's custom domain card (admins and owners): claim a domain, publish the TXT
// record it shows (copy buttons), verify it (pending, verified, failed with what the name
// servers answered), remove it. Plans without custom domains get an upgrade hint instead.
import { ActionIcon, Alert, Anchor, Badge, Button, Card, Code, CopyButton, Group, Stack, Table, Text, TextInput, Title, Tooltip } from '@mantine/core';
import { useForm } from '@mantine/form';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { z } from 'zod';
import type { CustomDomainQuery } from '../../../gql/graphql';
import { toAppError } from '../../../graphql/errors';
import { formatDateTime } from '../../format';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/PageState';
import { CustomDomainDocument, RemoveCustomDomainDocument, SetCustomDomainDocument, VerifyCustomDomainDocument } from './documents';

const domainSchema = z.object({
  domain: z
    .string()
    .trim()
    .min(1, 'Give a domain, such as portal.example.com')
    .max(253, 'At most 253 characters')
    .refine((d) => !/[/:@\s]/.test(d), 'Only the host name: no https://, port or path'),
});

type Domain = NonNullable<CustomDomainQuery['tenant']['customDomain']>;

const STATUS: Record<Domain['status'], { color: string; label: string }> = {
  PENDING: { color: 'gray', label: 'Pending' },
  VERIFIED: { color: 'green', label: 'Verified' },
  FAILED: { color: 'red', label: 'Not verified' },
};

export function CustomDomainCard() {
  const [result, reexecute] = useQuery({ query: CustomDomainDocument });
  const refresh = () => reexecute({ requestPolicy: 'network-only' });
  return (
    <Card withBorder data-testid="custom-domain">
      <Title order={2} size="h4" mb={4}>
        Custom domain
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        Serve the portal, branded, from your own address. Prove the domain is yours with a DNS record.
      </Text>
      <QueryState result={result} retry={refresh}>
        {(data) =>
          !data.tenant.plan.features.customDomain && !data.tenant.customDomain ? (
            <Text size="sm" data-testid="domain-upgrade-hint">
              Custom domains are not part of the {data.tenant.plan.name} plan.{' '}
              <Anchor component={Link} to="/billing">
                Compare plans and upgrade
              </Anchor>
            </Text>
          ) : data.tenant.customDomain ? (
            <DomainState domain={data.tenant.customDomain} refresh={refresh} />
          ) : (
            <ClaimForm onClaimed={refresh} />
          )
        }
      </QueryState>
    </Card>
  );
}

function ClaimForm({ onClaimed }: { onClaimed: () => void }) {
  const [claim, setDomain] = useMutation(SetCustomDomainDocument);
  const [failure, setFailure] = useState<unknown>(null);
  const form = useForm({ mode: 'controlled', initialValues: { domain: '' }, validate: zod4Resolver(domainSchema) });
  return (
    <form
      noValidate
      onSubmit={form.onSubmit(async ({ domain }) => {
        setFailure(null);
        const r = await setDomain({ domain: domain.trim() });
        if (r.error) {
          const e = toAppError(r.error);
          if (e.extensions.field === 'domain' || e.code === 'CONFLICT') form.setFieldError('domain', e.message);
          setFailure(r.error);
          return;
        }
        notifications.show({ color: 'green', title: 'Domain added', message: 'Publish the DNS record below, then verify.' });
        onClaimed();
      })}
    >
      <Stack gap="sm">
        <TextInput
          label="Domain"
          description="A host name you control, such as portal.example.com."
          placeholder="portal.example.com"
          autoComplete="off"
          required
          {...form.getInputProps('domain')}
        />
        {failure != null && <ErrorAlert error={failure} />}
        <Group>
          <Button type="submit" loading={claim.fetching}>
            Add domain
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function Copyable({ value, label }: { value: string; label: string }) {
  return (
    <Group gap={6} wrap="nowrap" align="center">
      <Code style={{ wordBreak: 'break-all' }}>{value}</Code>
      <CopyButton value={value}>
        {({ copied, copy }) => (
          <Tooltip label={copied ? 'Copied' : `Copy ${label}`} withArrow>
            <ActionIcon variant="subtle" color={copied ? 'green' : 'gray'} onClick={copy} aria-label={`Copy ${label}`}>
              <svg aria-hidden="true" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
                {copied ? (
                  <path d="M5 12l5 5L20 7" />
                ) : (
                  <>
                    <rect x="8" y="8" width="12" height="12" rx="2" />
                    <path d="M16 8V6a2 2 0 0 0-2-2H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h2" />
                  </>
                )}
              </svg>
            </ActionIcon>
          </Tooltip>
        )}
      </CopyButton>
    </Group>
  );
}

function DomainState({ domain, refresh }: { domain: Domain; refresh: () => void }) {
  const [verifying, verify] = useMutation(VerifyCustomDomainDocument);
  const [removing, remove] = useMutation(RemoveCustomDomainDocument);
  const [failure, setFailure] = useState<unknown>(null);
  const status = STATUS[domain.status];
  const confirmRemove = () =>
    modals.openConfirmModal({
      title: `Remove ${domain.domain}?`,
      children: <Text size="sm">The portal stops answering at this address at once. You can add it again later (with a new record to publish).</Text>,
      labels: { confirm: 'Remove domain', cancel: 'Keep it' },
      confirmProps: { color: 'red' },
      onConfirm: async () => {
        setFailure(null);
        const r = await remove({});
        if (r.error) {
          setFailure(r.error);
          return;
        }
        notifications.show({ message: `${domain.domain} removed.` });
        refresh();
      },
    });
  return (
    <Stack gap="sm">
      <Group gap="sm" wrap="wrap">
        <Text fw={600} style={{ wordBreak: 'break-all' }}>
          {domain.domain}
        </Text>
        <Badge color={status.color} variant="dot" data-testid="domain-status">
          {status.label}
        </Badge>
      </Group>
      {domain.status === 'VERIFIED' ? (
        <Text size="sm">
          Verified {formatDateTime(domain.verifiedAt)}. The portal answers at <Code>{domain.domain}</Code> once it points
          here. Keep the record published: it is checked daily, and a domain whose record is gone for 72 hours stops working.
        </Text>
      ) : (
        <Text size="sm">Publish this TXT record with your DNS provider, then press Verify (changes can take a few minutes to appear).</Text>
      )}
      <Table.ScrollContainer minWidth={280}>
        <Table withTableBorder variant="vertical" layout="fixed">
          <Table.Tbody>
            <Table.Tr>
              <Table.Th w={90}>Type</Table.Th>
              <Table.Td>
                <Code>TXT</Code>
              </Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Td>
                <Copyable value={domain.recordName} label="record name" />
              </Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>Value</Table.Th>
              <Table.Td>
                <Copyable value={domain.recordValue} label="record value" />
              </Table.Td>
            </Table.Tr>
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {domain.lastResult && (
        <Alert
          color={domain.status === 'FAILED' || domain.missingSince ? 'red' : 'gray'}
          variant="light"
          title={`Last checked ${formatDateTime(domain.lastCheckedAt)}`}
          data-testid="domain-last-result"
        >
          <Text size="sm">{domain.lastResult}</Text>
          {domain.missingSince && (
            <Text size="sm" mt={4}>
              The record has been missing since {formatDateTime(domain.missingSince)}.
            </Text>
          )}
        </Alert>
      )}
      {failure != null && <ErrorAlert error={failure} />}
      <Group>
        <Button
          loading={verifying.fetching}
          onClick={async () => {
            setFailure(null);
            const r = await verify({});
            refresh();
            if (r.error) {
              setFailure(r.error);
              return;
            }
            const now = r.data?.verifyCustomDomain.status;
            notifications.show(
              now === 'VERIFIED'
                ? { color: 'green', title: 'Domain verified', message: `${domain.domain} now serves this workspace.` }
                : { color: 'orange', title: 'Not verified yet', message: 'The record does not hold the value yet.' },
            );
          }}
        >
          {domain.status === 'VERIFIED' ? 'Check again' : 'Verify'}
        </Button>
        <Button variant="default" color="red" loading={removing.fetching} onClick={confirmRemove}>
          Remove domain
        </Button>
      </Group>
    </Stack>
  );
}
