// A card of data exports: the workspace's (owners, on the Settings page) or the signed-in
// person's own (the Account page). Ask for one, follow its progress (the list is read again
// every 2 s while one is queued or running), download it when ready. A download link is
// minted only when the button is pressed (each read of `downloadUrl` makes a new
// single-use link and sets its cookie), then the browser follows it: the archive streams
// from tenantgate as an attachment.
import { Badge, Button, Card, Group, Progress, Stack, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useEffect, useState } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import type { DataExportFieldsFragment, DataExportStatus } from '../../../gql/graphql';
import { ErrorAlert } from '../../components/ErrorAlert';
import { Empty, QueryState } from '../../components/PageState';
import { formatDateTime } from '../../format';
import { formatBytes } from './format';
import {
  MyDataExportsDocument,
  MyExportLinkDocument,
  RequestDataExportDocument,
  RequestMyDataExportDocument,
  TenantDataExportsDocument,
  TenantExportLinkDocument,
} from './documents';

type Scope = 'tenant' | 'personal';

const STATUS: Record<DataExportStatus, { label: string; color: string }> = {
  QUEUED: { label: 'Queued', color: 'gray' },
  RUNNING: { label: 'Preparing', color: 'blue' },
  READY: { label: 'Ready', color: 'green' },
  FAILED: { label: 'Failed', color: 'red' },
  EXPIRED: { label: 'Expired', color: 'gray' },
};

export function ExportsCard({ scope }: { scope: Scope }) {
  const tenant = scope === 'tenant';
  const [tenantList, refetchTenant] = useQuery({ query: TenantDataExportsDocument, pause: !tenant });
  const [myList, refetchMine] = useQuery({ query: MyDataExportsDocument, pause: tenant });
  const result: { data?: unknown; error?: unknown; fetching: boolean } = tenant ? tenantList : myList;
  const refetch = () => (tenant ? refetchTenant : refetchMine)({ requestPolicy: 'network-only' });
  const nodes: DataExportFieldsFragment[] = tenant
    ? (tenantList.data?.tenant.dataExports.nodes ?? [])
    : (myList.data?.viewer?.dataExports.nodes ?? []);
  const busy = nodes.some((n) => n.status === 'QUEUED' || n.status === 'RUNNING');

  // Follow progress while an export is being made.
  useEffect(() => {
    if (!busy) return undefined;
    const timer = window.setInterval(refetch, 2000);
    return () => window.clearInterval(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [busy, tenant]);

  const [requestTenant, askTenant] = useMutation(RequestDataExportDocument);
  const [requestMine, askMine] = useMutation(RequestMyDataExportDocument);
  const request = tenant ? requestTenant : requestMine;
  const [failure, setFailure] = useState<unknown>(null);

  const ask = async () => {
    setFailure(null);
    const r = tenant ? await askTenant({}) : await askMine({});
    if (r.error) {
      setFailure(r.error);
      return;
    }
    notifications.show({
      title: 'Export requested',
      message: tenant
        ? 'The owners get an email when it is ready.'
        : 'You get an email when it is ready.',
    });
    refetch();
  };

  const title = tenant ? 'Export data' : 'Download my data';
  const headingId = `exports-${scope}`;
  return (
    <Card withBorder component="section" aria-labelledby={headingId}>
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start" wrap="wrap">
          <div>
            <Title order={2} size="h4" id={headingId}>
              {title}
            </Title>
            <Text size="sm" c="dimmed" maw={520}>
              {tenant
                ? 'One ZIP of JSON Lines files: the workspace, members, invitations, API keys (never secrets), plan and billing references, usage and the audit trail, with a manifest of counts and checksums. Kept 24 hours.'
                : 'One ZIP of JSON Lines files: your account, workspaces, sessions and everything you did in any workspace, with a manifest. Kept 24 hours.'}
            </Text>
          </div>
          <Button onClick={() => void ask()} loading={request.fetching} disabled={busy}>
            {tenant ? 'Request export' : 'Request my data'}
          </Button>
        </Group>
        {failure !== null && <ErrorAlert error={failure} />}
        <QueryState result={result} retry={refetch}>
          {() =>
            nodes.length === 0 ? (
              <Empty title="No exports yet">Ask for one: it is ready in a few moments.</Empty>
            ) : (
              <Stack gap="xs" component="ul" p={0} m={0} style={{ listStyle: 'none' }} aria-label={`${title}: exports`}>
                {nodes.map((n) => (
                  <ExportRow key={n.id} item={n} scope={scope} />
                ))}
              </Stack>
            )
          }
        </QueryState>
      </Stack>
    </Card>
  );
}

function ExportRow({ item, scope }: { item: DataExportFieldsFragment; scope: Scope }) {
  const client = useClient();
  const [failure, setFailure] = useState<unknown>(null);
  const [opening, setOpening] = useState(false);
  const status = STATUS[item.status];
  const making = item.status === 'QUEUED' || item.status === 'RUNNING';

  const download = async () => {
    setFailure(null);
    setOpening(true);
    const r =
      scope === 'tenant'
        ? await client.query(TenantExportLinkDocument, { id: item.id }, { requestPolicy: 'network-only' }).toPromise()
        : await client.query(MyExportLinkDocument, { id: item.id }, { requestPolicy: 'network-only' }).toPromise();
    setOpening(false);
    const url =
      r.data && 'tenant' in r.data
        ? r.data.tenant.dataExport?.downloadUrl
        : r.data && 'viewer' in r.data
          ? r.data.viewer?.dataExport?.downloadUrl
          : null;
    if (r.error || !url) {
      setFailure(r.error ?? new Error('This export can no longer be downloaded: ask for a new one.'));
      return;
    }
    // The server answers with an attachment: the page stays where it is.
    window.location.assign(url);
  };

  return (
    <li>
      <Card withBorder padding="sm" radius="sm">
        <Stack gap={6}>
          <Group justify="space-between" wrap="wrap" gap="xs">
            <Group gap="xs" wrap="wrap">
              <Badge color={status.color} variant="dot" data-testid="export-status">
                {status.label}
              </Badge>
              <Text size="sm">Requested {formatDateTime(item.createdAt)}</Text>
            </Group>
            {item.status === 'READY' && (
              <Button size="xs" onClick={() => void download()} loading={opening} aria-label={`Download the export of ${formatDateTime(item.createdAt)}`}>
                Download
              </Button>
            )}
          </Group>
          {making && (
            <Progress
              value={Math.max(item.progress, 3)}
              animated
              aria-label="Export progress"
              aria-valuetext={`${item.progress} %`}
            />
          )}
          {item.status === 'READY' && (
            <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
              {formatBytes(item.sizeBytes)} · until {formatDateTime(item.expiresAt)} · SHA-256 {item.checksum}
            </Text>
          )}
          {item.error && (
            <Text size="xs" c={item.status === 'FAILED' ? 'red' : 'dimmed'}>
              {item.error}
            </Text>
          )}
          {failure !== null && <ErrorAlert error={failure} />}
        </Stack>
      </Card>
    </li>
  );
}
