// The workspace's audit trail: newest first, filtered by actor, action and dates, paginated
// through the connection's cursors, with new entries pushed live at the top (highlighted
// for a few seconds) and the feed's state shown ("Live" / "Reconnecting…").
import { Autocomplete, Badge, Button, Card, Code, Group, Menu, Select, Table, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useMemo, useState } from 'react';
import { useQuery } from 'urql';
import type { AuditEntryFieldsFragment } from '../../../gql/graphql';
import type { AppError } from '../../../graphql/errors';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageHeader } from '../../components/PageHeader';
import { Empty, QueryState } from '../../components/PageState';
import { AuditActorsDocument, AuditLogDocument } from './documents';
import { downloadAuditLog, type ExportFormat } from './download';
import { useAuditFeed, type FeedState } from './feed';
import { badRange, matches, toFilter } from './filters';

const PAGE_SIZE = 25;
const FRESH_MS = 6_000;

/** Actions the server records in a workspace's trail (any other can be typed). */
const ACTIONS = [
  'api_key.create',
  'api_key.rotate',
  'api_key.update',
  'api_key.revoke',
  'api_key.browser_use',
  'publishable_key.create',
  'publishable_key.revoke',
  'allowed_origin.add',
  'allowed_origin.remove',
  'invitation.create',
  'invitation.accept',
  'invitation.revoke',
  'member.role_change',
  'member.remove',
  'member.leave',
  'tenant.create',
  'tenant.update',
  'tenant.plan_change',
  'tenant.suspend',
  'tenant.reactivate',
  'billing.checkout.create',
  'billing.plan.change',
  'billing.portal.open',
  'billing.subscription.cancel',
  'billing.subscription.resume',
  'billing.subscription.sync',
  'quota.threshold',
  'session.login',
  'session.magic_link',
  'session.password_reset',
  'session.switch_tenant',
  'session.revoke',
  'session.revoke_all',
  'user.email_verified',
  'user.password_reset',
];

function FeedBadge({ state }: { state: FeedState }) {
  const look = {
    live: { color: 'green', text: 'Live' },
    connecting: { color: 'gray', text: 'Connecting…' },
    reconnecting: { color: 'yellow', text: 'Reconnecting…' },
    stopped: { color: 'red', text: 'Not live' },
  }[state];
  return (
    <Badge color={look.color} variant="dot" size="lg" role="status" aria-live="polite" data-testid="feed-state" data-state={state}>
      {look.text}
    </Badge>
  );
}

function Details({ e }: { e: AuditEntryFieldsFragment }) {
  const has = e.before != null || e.after != null || e.userAgent || e.requestId;
  if (!has) return <Text size="xs" c="dimmed">—</Text>;
  return (
    <details>
      <summary style={{ cursor: 'pointer', fontSize: 'var(--mantine-font-size-xs)' }}>Details</summary>
      {e.requestId && (
        <Text size="xs">
          Request <Code>{e.requestId}</Code>
        </Text>
      )}
      {e.userAgent && (
        <Text size="xs" style={{ wordBreak: 'break-all' }}>
          {e.userAgent}
        </Text>
      )}
      {e.before != null && (
        <Code block fz="xs" mt={4}>
          {`before ${JSON.stringify(e.before, null, 1)}`}
        </Code>
      )}
      {e.after != null && (
        <Code block fz="xs" mt={4}>
          {`after ${JSON.stringify(e.after, null, 1)}`}
        </Code>
      )}
    </details>
  );
}

function Row({ e, fresh }: { e: AuditEntryFieldsFragment; fresh: boolean }) {
  return (
    <Table.Tr
      data-entry-id={e.id}
      data-target-id={e.targetId ?? undefined}
      data-live={fresh ? 'true' : undefined}
      style={{
        backgroundColor: fresh ? 'var(--mantine-color-yellow-0)' : undefined,
        transition: 'background-color 1.5s ease',
      }}
    >
      <Table.Td style={{ whiteSpace: 'nowrap' }}>
        {new Date(e.createdAt).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })}
      </Table.Td>
      <Table.Td>
        <Text size="sm">{e.actorLabel ?? e.actorType}</Text>
        <Text size="xs" c="dimmed">
          {e.actorType.replace('_', ' ')}
        </Text>
      </Table.Td>
      <Table.Td>
        <Code>{e.action}</Code>
      </Table.Td>
      <Table.Td>
        {e.targetType ? (
          <Text size="xs">
            {e.targetType}
            {/* Ids are UUIDv7: their start is a timestamp, their end tells them apart. */}
            {e.targetId && (
              <span title={e.targetId}> · {e.targetId.length > 13 ? `…${e.targetId.slice(-8)}` : e.targetId}</span>
            )}
          </Text>
        ) : (
          <Text size="xs" c="dimmed">
            —
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        <Text size="xs">{e.ip ?? '—'}</Text>
      </Table.Td>
      <Table.Td>
        <Details e={e} />
      </Table.Td>
    </Table.Tr>
  );
}

/** Downloads what the filters select, as CSV or JSON Lines; a refusal shows below the filters. */
function ExportMenu({ filter, disabled, onError }: { filter: Parameters<typeof downloadAuditLog>[1]; disabled: boolean; onError: (e: AppError | null) => void }) {
  const [busy, setBusy] = useState(false);
  const run = async (format: ExportFormat) => {
    setBusy(true);
    onError(null);
    try {
      await downloadAuditLog(format, filter);
      notifications.show({ color: 'green', message: `The audit log was downloaded as ${format === 'csv' ? 'CSV' : 'JSON Lines'}.` });
    } catch (e) {
      onError(e as AppError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <Button variant="default" loading={busy} disabled={disabled} data-testid="audit-export">
          Download
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>What the filters show, every page</Menu.Label>
        <Menu.Item onClick={() => void run('csv')}>CSV (spreadsheets)</Menu.Item>
        <Menu.Item onClick={() => void run('jsonl')}>JSON Lines</Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}

export function Audit() {
  const [actor, setActor] = useState<string | null>(null);
  const [actionText, setActionText] = useState('');
  const [action] = useDebouncedValue(actionText.trim(), 400);
  const [fromDate, setFromDate] = useState('');
  const [toDate, setToDate] = useState('');
  const [cursors, setCursors] = useState<(string | null)[]>([]);
  const [exportError, setExportError] = useState<AppError | null>(null);
  const after = cursors.length ? cursors[cursors.length - 1] : null;
  const form = { actor, action, from: fromDate, to: toDate };
  const wrongWay = badRange(form);
  const filter = useMemo(
    () => toFilter({ actor, action, from: fromDate, to: toDate }),
    [action, actor, fromDate, toDate],
  );
  useEffect(() => setCursors([]), [filter]);

  const [result, reexecute] = useQuery({ query: AuditLogDocument, variables: { first: PAGE_SIZE, after, filter } });
  const [actors] = useQuery({ query: AuditActorsDocument });
  const feed = useAuditFeed(() => reexecute({ requestPolicy: 'network-only' }));

  // Entries pushed since the page opened are highlighted for a few seconds.
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const newest = feed.entries[0]?.id;
  useEffect(() => {
    if (!newest) return;
    setFresh((s) => new Set(s).add(newest));
    // Not cleared when the next entry arrives: each entry fades on its own.
    setTimeout(
      () =>
        setFresh((s) => {
          const next = new Set(s);
          next.delete(newest);
          return next;
        }),
      FRESH_MS,
    );
  }, [newest]);

  const actorOptions = useMemo(() => {
    const t = actors.data?.tenant;
    if (!t) return [];
    return [
      { group: 'Members', items: (t.members?.nodes ?? []).map((m) => ({ value: m.user.id, label: m.user.email })) },
      { group: 'API keys', items: (t.apiKeys?.nodes ?? []).map((k) => ({ value: k.id, label: `${k.name} (${k.displayPrefix}…)` })) },
    ];
  }, [actors.data]);

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Who did what in this workspace, newest first."
        example="audit"
        actions={
          <Group gap="sm">
            <FeedBadge state={feed.state} />
            <ExportMenu filter={filter} disabled={wrongWay} onError={setExportError} />
          </Group>
        }
      />
      {exportError && <ErrorAlert error={exportError} title="The download failed" />}
      {feed.error != null && !result.error && <ErrorAlert error={feed.error} title="The live feed stopped" />}
      <Group gap="sm" mb="md" align="flex-start" wrap="wrap">
        <Select
          label="Actor"
          placeholder="Anyone"
          data={actorOptions}
          value={actor}
          onChange={setActor}
          searchable
          clearable
          nothingFoundMessage="No such member or key"
          w={260}
        />
        <Autocomplete
          label="Action"
          placeholder="Any action, e.g. api_key.create"
          data={ACTIONS}
          value={actionText}
          onChange={setActionText}
          w={260}
        />
        <TextInput type="date" label="From" value={fromDate} onChange={(e) => setFromDate(e.currentTarget.value)} w={170} />
        <TextInput
          type="date"
          label="To"
          value={toDate}
          onChange={(e) => setToDate(e.currentTarget.value)}
          error={wrongWay ? 'Must be on or after From' : undefined}
          w={170}
        />
      </Group>
      <QueryState result={result} retry={() => reexecute({ requestPolicy: 'network-only' })}>
        {(data) => {
          // A refused field leaves partial data: the error above says why.
          const page = data.tenant?.auditLog;
          if (!page) return null;
          const ids = new Set(page.nodes.map((e) => e.id));
          // Live entries are shown on the first page, over what it read (each entry once).
          const live = cursors.length === 0 ? feed.entries.filter((e) => !ids.has(e.id) && matches(e, filter)) : [];
          const rows = [...live, ...page.nodes];
          if (rows.length === 0 && cursors.length === 0) {
            return (
              <Card withBorder>
                <Empty title={Object.keys(filter).length ? 'No entries match these filters' : 'No entries yet'}>
                  New entries appear here as they happen.
                </Empty>
              </Card>
            );
          }
          return (
            <>
              <Card withBorder p={0}>
                <Table.ScrollContainer minWidth={860}>
                  <Table verticalSpacing="xs" aria-label="Audit log entries">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>When</Table.Th>
                        <Table.Th>Actor</Table.Th>
                        <Table.Th>Action</Table.Th>
                        <Table.Th>Target</Table.Th>
                        <Table.Th>Address</Table.Th>
                        <Table.Th>More</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {rows.map((e) => (
                        <Row key={e.id} e={e} fresh={fresh.has(e.id)} />
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              </Card>
              {(cursors.length > 0 || page.pageInfo.hasNextPage) && (
                <Group justify="space-between" mt="md">
                  <Button variant="default" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
                    Newer
                  </Button>
                  <Text size="sm" c="dimmed">
                    Page {cursors.length + 1}
                  </Text>
                  <Button
                    variant="default"
                    disabled={!page.pageInfo.hasNextPage || !page.pageInfo.endCursor}
                    onClick={() => setCursors((c) => [...c, page.pageInfo.endCursor])}
                  >
                    Older
                  </Button>
                </Group>
              )}
            </>
          );
        }}
      </QueryState>
    </>
  );
}
