// The workspace's webhook endpoints (admins and owners): each with its state, the events
// it receives and its latest delivery; adding one (its secret shown once) and the
// actions on each. The delivery log is on the endpoint's own page.
import { Anchor, Button, Card, Group, Menu, Stack, Table, Text } from '@mantine/core';
import { Link } from 'react-router';
import { useQuery } from 'urql';
import { permissions, ViewerDocument } from '../../auth/viewer';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageHeader } from '../../components/PageHeader';
import { Empty, QueryState } from '../../components/PageState';
import { useEndpointActions } from './EndpointActions';
import { WebhookEndpointsDocument } from './documents';
import { DeliveryBadge, EndpointBadge, eventTypesLabel, when } from './format';

export function Webhooks() {
  const [viewer] = useQuery({ query: ViewerDocument });
  const canManage = permissions(viewer.data?.viewer?.role).manageWebhooks;
  const [result, reexecute] = useQuery({ query: WebhookEndpointsDocument });
  const refresh = () => reexecute({ requestPolicy: 'network-only' });
  const actions = useEndpointActions({ onChanged: refresh });

  return (
    <>
      <PageHeader
        title="Webhooks"
        description="Endpoints that hear of what happens in this workspace: members, keys, billing, usage."
        example="webhooks"
        actions={
          canManage && (
            <Button onClick={actions.create} data-testid="add-endpoint">
              Add endpoint
            </Button>
          )
        }
      />
      {actions.error != null && <ErrorAlert error={actions.error} />}
      <QueryState result={result} retry={refresh}>
        {(data) => {
          // A refused field leaves partial data: the error says why.
          const endpoints = data.tenant?.webhookEndpoints;
          if (!endpoints) return null;
          if (endpoints.length === 0) {
            return (
              <Card withBorder>
                <Empty title="No webhook endpoints yet">
                  Add an endpoint to receive signed events (Standard Webhooks) when members join, keys change, a payment
                  fails or a quota nears its limit.
                </Empty>
              </Card>
            );
          }
          return (
            <Card withBorder p={0}>
              <Table.ScrollContainer minWidth={860}>
                <Table striped highlightOnHover verticalSpacing="sm" aria-label="Webhook endpoints">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Endpoint</Table.Th>
                      <Table.Th>State</Table.Th>
                      <Table.Th>Events</Table.Th>
                      <Table.Th>Last delivery</Table.Th>
                      {canManage && <Table.Th>Actions</Table.Th>}
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {endpoints.map((e) => {
                      const last = e.deliveries.nodes[0];
                      return (
                        <Table.Tr key={e.id} data-endpoint-id={e.id}>
                          <Table.Td maw={360}>
                            <Anchor component={Link} to={`/webhooks/${e.id}`} fw={600} style={{ overflowWrap: 'anywhere' }}>
                              {e.url}
                            </Anchor>
                            {e.description && (
                              <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
                                {e.description}
                              </Text>
                            )}
                          </Table.Td>
                          <Table.Td>
                            <EndpointBadge enabled={e.enabled} failingSince={e.failingSince} />
                          </Table.Td>
                          <Table.Td>
                            <Text size="xs">{eventTypesLabel(e.eventTypes)}</Text>
                          </Table.Td>
                          <Table.Td>
                            {last ? (
                              <Stack gap={2}>
                                <Group gap={6} wrap="nowrap">
                                  <DeliveryBadge status={last.status} />
                                  <Text size="xs" ff="monospace">
                                    {last.eventType}
                                  </Text>
                                </Group>
                                <Text size="xs" c="dimmed">
                                  {when(last.createdAt)}
                                </Text>
                              </Stack>
                            ) : (
                              <Text size="xs" c="dimmed">
                                None yet
                              </Text>
                            )}
                          </Table.Td>
                          {canManage && (
                            <Table.Td>
                              <Group gap={6} wrap="nowrap">
                                <Button size="xs" variant="default" component={Link} to={`/webhooks/${e.id}`}>
                                  Deliveries
                                </Button>
                                <Menu position="bottom-end" withinPortal>
                                  <Menu.Target>
                                    <Button size="xs" variant="default" aria-label={`More actions for ${e.url}`}>
                                      More
                                    </Button>
                                  </Menu.Target>
                                  <Menu.Dropdown>
                                    <Menu.Item onClick={() => actions.edit(e)}>Edit</Menu.Item>
                                    <Menu.Item onClick={() => actions.sendTest(e)} disabled={!e.enabled}>
                                      Send test event
                                    </Menu.Item>
                                    <Menu.Item onClick={() => actions.toggle(e)}>{e.enabled ? 'Disable' : 'Enable'}</Menu.Item>
                                    <Menu.Item onClick={() => actions.rotate(e)}>Rotate secret</Menu.Item>
                                    <Menu.Divider />
                                    <Menu.Item color="red.9" onClick={() => actions.remove(e)}>
                                      Delete
                                    </Menu.Item>
                                  </Menu.Dropdown>
                                </Menu>
                              </Group>
                            </Table.Td>
                          )}
                        </Table.Tr>
                      );
                    })}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            </Card>
          );
        }}
      </QueryState>
      {actions.elements}
    </>
  );
}
