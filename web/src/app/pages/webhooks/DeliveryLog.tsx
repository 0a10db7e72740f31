// An endpoint's deliveries as a table; each row opens to its attempts (time, HTTP status,
// latency, the response's first 1 KB or the error) and the payload sent, with Replay.
import { Button, Card, Code, Collapse, Group, Stack, Table, Text } from '@mantine/core';
import { Fragment, useState } from 'react';
import type { WebhookDeliveryFieldsFragment } from '../../../gql/graphql';
import { attemptLine, DeliveryBadge, when } from './format';

export function DeliveryLog({
  deliveries,
  canReplay,
  replaying,
  onReplay,
}: {
  deliveries: readonly WebhookDeliveryFieldsFragment[];
  canReplay: boolean;
  replaying: boolean;
  onReplay: (id: string) => void;
}) {
  const [open, setOpen] = useState<string | null>(null);
  return (
    <Card withBorder p={0}>
      <Table.ScrollContainer minWidth={760}>
        <Table verticalSpacing="sm" aria-label="Deliveries">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Time</Table.Th>
              <Table.Th>Event</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Last attempt</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {deliveries.map((d) => {
              const last = d.attempts[d.attempts.length - 1];
              const expanded = open === d.id;
              return (
                <Fragment key={d.id}>
                  <Table.Tr data-delivery-id={d.id} data-status={d.status} data-replay={d.replayOf ? 'true' : undefined}>
                    <Table.Td fz="sm">{when(d.createdAt)}</Table.Td>
                    <Table.Td>
                      <Text size="sm" ff="monospace">
                        {d.eventType}
                      </Text>
                      {d.replayOf && (
                        <Text size="xs" c="dimmed">
                          Replay
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <DeliveryBadge status={d.status} />
                      <Text size="xs" c="dimmed">
                        {d.attemptCount} {d.attemptCount === 1 ? 'attempt' : 'attempts'}
                        {d.status === 'PENDING' && d.nextAttemptAt ? ` · next ${when(d.nextAttemptAt)}` : ''}
                      </Text>
                    </Table.Td>
                    <Table.Td fz="sm" maw={260}>
                      {last ? attemptLine(last) : '—'}
                      {last?.error && (
                        <Text size="xs" c="dimmed" lineClamp={2} title={last.error}>
                          {last.error}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Group gap={6} wrap="nowrap">
                        <Button
                          size="xs"
                          variant="default"
                          aria-expanded={expanded}
                          aria-controls={`delivery-${d.id}`}
                          onClick={() => setOpen(expanded ? null : d.id)}
                        >
                          {expanded ? 'Hide' : 'Details'}
                        </Button>
                        {canReplay && (
                          <Button size="xs" variant="default" loading={replaying} onClick={() => onReplay(d.id)} aria-label={`Replay ${d.eventType} of ${when(d.createdAt)}`}>
                            Replay
                          </Button>
                        )}
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                  <Table.Tr style={expanded ? undefined : { display: 'none' }}>
                    <Table.Td colSpan={5} p={0}>
                      <Collapse in={expanded} id={`delivery-${d.id}`}>
                        <Stack gap="sm" p="md" data-testid="delivery-details">
                          <Text size="xs" c="dimmed">
                            Message <Code>{d.eventId}</Code>
                            {d.completedAt ? ` · ended ${when(d.completedAt)}` : ''}
                          </Text>
                          {d.attempts.length === 0 ? (
                            <Text size="sm" c="dimmed">
                              No attempt yet.
                            </Text>
                          ) : (
                            <Table aria-label="Attempts" withTableBorder fz="sm">
                              <Table.Thead>
                                <Table.Tr>
                                  <Table.Th>Attempted</Table.Th>
                                  <Table.Th>HTTP status</Table.Th>
                                  <Table.Th>Latency</Table.Th>
                                  <Table.Th>Response (first 1 KB)</Table.Th>
                                </Table.Tr>
                              </Table.Thead>
                              <Table.Tbody>
                                {d.attempts.map((a) => (
                                  <Table.Tr key={a.id}>
                                    <Table.Td>{when(a.attemptedAt)}</Table.Td>
                                    <Table.Td>{a.statusCode ?? 'no answer'}</Table.Td>
                                    <Table.Td>{a.latencyMs} ms</Table.Td>
                                    <Table.Td maw={380}>
                                      {a.error && (
                                        <Text size="xs" c="red.9">
                                          {a.error}
                                        </Text>
                                      )}
                                      <Code block style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
                                        {a.responseExcerpt || '(empty)'}
                                      </Code>
                                    </Table.Td>
                                  </Table.Tr>
                                ))}
                              </Table.Tbody>
                            </Table>
                          )}
                          <Text size="sm" fw={600}>
                            Payload
                          </Text>
                          <Code block style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
                            {JSON.stringify(d.payload, null, 2)}
                          </Code>
                        </Stack>
                      </Collapse>
                    </Table.Td>
                  </Table.Tr>
                </Fragment>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Card>
  );
}
