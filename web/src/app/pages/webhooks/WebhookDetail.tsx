// One endpoint: its settings and actions, and its delivery log (newest first, 20 a page),
// each delivery with its attempts (time, status, latency, the response's first 1 KB) and
// Replay. While a delivery is pending the log is read again, backing off (see poll.ts); a
// Refresh button reads it at any time.
import { Anchor, Badge, Button, Card, Code, Group, SimpleGrid, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useCallback, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { permissions, ViewerDocument } from '../../auth/viewer';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageHeader } from '../../components/PageHeader';
import { Empty, QueryState } from '../../components/PageState';
import { DeliveryLog } from './DeliveryLog';
import { useEndpointActions } from './EndpointActions';
import { ReplayWebhookDeliveryDocument, WebhookEndpointDocument } from './documents';
import { disableAt, EndpointBadge, when } from './format';
import { useBackoffPoll } from './poll';

const PAGE_SIZE = 20;

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="sm" component="div" style={{ overflowWrap: 'anywhere' }}>
        {children}
      </Text>
    </Stack>
  );
}

export function WebhookDetail() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const [viewer] = useQuery({ query: ViewerDocument });
  const canManage = permissions(viewer.data?.viewer?.role).manageWebhooks;
  const [cursors, setCursors] = useState<(string | null)[]>([]);
  const after = cursors.length ? cursors[cursors.length - 1] : null;
  const [result, reexecute] = useQuery({ query: WebhookEndpointDocument, variables: { id, first: PAGE_SIZE, after } });
  const refresh = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute]);
  const actions = useEndpointActions({
    onChanged: () => {
      setCursors([]);
      refresh();
    },
    onDeleted: () => void navigate('/webhooks'),
  });
  const [replayed, replay] = useMutation(ReplayWebhookDeliveryDocument);
  const [replayError, setReplayError] = useState<unknown>(null);

  const pending = result.data?.tenant?.webhookEndpoint?.deliveries.nodes.some((d) => d.status === 'PENDING') ?? false;
  useBackoffPoll(pending, refresh);

  async function onReplay(deliveryId: string) {
    setReplayError(null);
    const r = await replay({ id: deliveryId });
    if (r.error) return setReplayError(r.error);
    setCursors([]);
    refresh();
    notifications.show({ closeButtonProps: { 'aria-label': 'Dismiss' }, color: 'green', message: 'Replay queued: it is the newest delivery.' });
  }

  return (
    <QueryState result={result} retry={refresh}>
      {(data) => {
        const e = data.tenant?.webhookEndpoint;
        if (!e) {
          return (
            <>
              <PageHeader title="Webhook endpoint" />
              <Card withBorder>
                <Empty title="No such endpoint">
                  It was deleted, or belongs to another workspace. <Anchor component={Link} to="/webhooks">All endpoints</Anchor>
                </Empty>
              </Card>
            </>
          );
        }
        const page = e.deliveries.pageInfo;
        return (
          <>
            <Anchor component={Link} to="/webhooks" size="sm">
              ← All endpoints
            </Anchor>
            <PageHeader
              title="Webhook endpoint"
              description={<span style={{ overflowWrap: 'anywhere' }}>{e.url}</span>}
              actions={
                canManage && (
                  <Group gap="xs" wrap="wrap">
                    <Button onClick={() => actions.sendTest(e)} disabled={!e.enabled} loading={actions.busy} data-testid="send-test">
                      Send test event
                    </Button>
                    <Button variant="default" onClick={() => actions.edit(e)}>
                      Edit
                    </Button>
                    <Button variant="default" onClick={() => actions.toggle(e)}>
                      {e.enabled ? 'Disable' : 'Enable'}
                    </Button>
                    <Button variant="default" onClick={() => actions.rotate(e)}>
                      Rotate secret
                    </Button>
                    <Button variant="outline" color="red.9" onClick={() => actions.remove(e)}>
                      Delete
                    </Button>
                  </Group>
                )
              }
            />
            {actions.error != null && <ErrorAlert error={actions.error} />}
            <Card withBorder mb="lg">
              <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="md">
                <Fact label="State">
                  <EndpointBadge enabled={e.enabled} failingSince={e.failingSince} />
                  {e.disabledReason && (
                    <Text size="xs" c="dimmed" mt={4}>
                      {e.disabledReason} ({when(e.disabledAt)})
                    </Text>
                  )}
                  {e.failingSince && (
                    <Text size="xs" c="dimmed" mt={4}>
                      Failing since {when(e.failingSince)}. If deliveries keep failing until {when(disableAt(e.failingSince))}, the endpoint is disabled and the owners are emailed.
                    </Text>
                  )}
                </Fact>
                <Fact label="Events">
                  {e.eventTypes.length === 0 ? (
                    'All events'
                  ) : (
                    <Group gap={4}>
                      {e.eventTypes.map((t) => (
                        <Badge key={t} variant="outline" color="dark.6" tt="none" miw="fit-content">
                          {t}
                        </Badge>
                      ))}
                    </Group>
                  )}
                </Fact>
                <Fact label="Description">{e.description || '—'}</Fact>
                <Fact label="Created">{when(e.createdAt)}</Fact>
                <Fact label="Signing secret">
                  {e.previousSecretExpiresAt
                    ? `Rotated: the previous secret also signs until ${when(e.previousSecretExpiresAt)}`
                    : 'One secret signs'}
                </Fact>
                <Fact label="Last changed">{when(e.updatedAt)}</Fact>
              </SimpleGrid>
            </Card>
            <Group justify="space-between" mb="sm" wrap="wrap">
              <Text component="h2" fw={700} size="lg">
                Delivery log
              </Text>
              <Button variant="default" size="xs" onClick={refresh} loading={result.fetching} data-testid="refresh-deliveries">
                Refresh
              </Button>
            </Group>
            {replayError != null && <ErrorAlert error={replayError} />}
            {e.deliveries.nodes.length === 0 && cursors.length === 0 ? (
              <Card withBorder>
                <Empty title="No deliveries yet">
                  {canManage && e.enabled ? 'Send a test event to check your receiver.' : 'Deliveries appear here as events happen.'}
                </Empty>
              </Card>
            ) : (
              <DeliveryLog
                deliveries={e.deliveries.nodes}
                canReplay={canManage && e.enabled}
                replaying={replayed.fetching}
                onReplay={(d) => void onReplay(d)}
              />
            )}
            {(cursors.length > 0 || page.hasNextPage) && (
              <Group justify="space-between" mt="md">
                <Button variant="default" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
                  Newer
                </Button>
                <Text size="sm" c="dimmed">
                  Page {cursors.length + 1}
                </Text>
                <Button variant="default" disabled={!page.hasNextPage || !page.endCursor} onClick={() => setCursors((c) => [...c, page.endCursor])}>
                  Older
                </Button>
              </Group>
            )}
            <Text size="xs" c="dimmed" mt="md">
              Each delivery keeps its <Code>webhook-id</Code> on every attempt and replay, so receivers can ignore repeats.
            </Text>
            {actions.elements}
          </>
        );
      }}
    </QueryState>
  );
}
