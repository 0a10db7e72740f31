// The workspace's API keys: a filtered, paginated list (through the connection's cursors),
// creating a key (its secret shown once), rotating and revoking. Only roles that may manage
// keys see those buttons; the server checks again.
import { Anchor, Button, Card, Group, Select, Table, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { useQuery } from 'urql';
import type { ApiKeyEnvironment, ApiKeyFilter, ApiKeyState } from '../../../gql/graphql';
import { permissions, ViewerDocument } from '../../auth/viewer';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageHeader } from '../../components/PageHeader';
import { Empty, QueryState } from '../../components/PageState';
import { CreateKeyModal } from './CreateKeyModal';
import { ApiKeysDocument, KeyCreatorsDocument } from './documents';
import { EnvironmentBadge, rateLabel, scopeLabel, StateBadge, when } from './format';
import { useKeyActions } from './KeyActions';

const PAGE_SIZE = 20;

const STATE_FILTER = [
  { value: '', label: 'Any state' },
  { value: 'ACTIVE', label: 'Active' },
  { value: 'ROTATING', label: 'Rotating' },
  { value: 'REVOKED', label: 'Revoked' },
  { value: 'EXPIRED', label: 'Expired' },
];
const ENV_FILTER = [
  { value: '', label: 'Live and test' },
  { value: 'LIVE', label: 'Live' },
  { value: 'TEST', label: 'Test' },
];

export interface Creators {
  /** Members' emails by user id (the first 100 members). */
  names: Map<string, string>;
  /** Whether `names` holds every member (so a missing creator has left). */
  complete: boolean;
}

/** Names of the members who may have made keys, by user id. */
export function useCreators(): Creators {
  const [creators] = useQuery({ query: KeyCreatorsDocument });
  return useMemo(() => {
    const members = creators.data?.tenant?.members;
    return {
      names: new Map((members?.nodes ?? []).map((m) => [m.user.id, m.user.email])),
      complete: members ? !members.pageInfo.hasNextPage : false,
    };
  }, [creators.data]);
}

export function creatorName(creators: Creators, id: string | null): string {
  if (!id) return '—';
  return creators.names.get(id) ?? (creators.complete ? 'a former member' : `user …${id.slice(-8)}`);
}

export function Keys() {
  const [viewer] = useQuery({ query: ViewerDocument });
  const canManage = permissions(viewer.data?.viewer?.role).manageKeys;
  const [state, setState] = useState('');
  const [environment, setEnvironment] = useState('');
  // The cursors of the pages before this one (a stack: Previous pops it).
  const [cursors, setCursors] = useState<(string | null)[]>([]);
  const after = cursors.length ? cursors[cursors.length - 1] : null;
  const filter: ApiKeyFilter = {};
  if (state) filter.state = state as ApiKeyState;
  if (environment) filter.environment = environment as ApiKeyEnvironment;
  const [result, reexecute] = useQuery({
    query: ApiKeysDocument,
    variables: { first: PAGE_SIZE, after, filter },
  });
  const creators = useCreators();
  const [creating, setCreating] = useState(false);
  const actions = useKeyActions(() => reexecute({ requestPolicy: 'network-only' }));

  const resetPages = () => setCursors([]);

  return (
    <>
      <PageHeader
        title="API keys"
        description="Keys your backends use to call tenantgate and /v1/authorize."
        example="keys"
        actions={
          canManage && (
            <Button onClick={() => setCreating(true)} data-testid="create-key">
              Create key
            </Button>
          )
        }
      />
      {actions.error != null && <ErrorAlert error={actions.error} />}
      <Group gap="sm" mb="md" wrap="wrap">
        <Select
          label="State"
          data={STATE_FILTER}
          value={state}
          onChange={(v) => {
            setState(v ?? '');
            resetPages();
          }}
          allowDeselect={false}
          w={180}
        />
        <Select
          label="Environment"
          data={ENV_FILTER}
          value={environment}
          onChange={(v) => {
            setEnvironment(v ?? '');
            resetPages();
          }}
          allowDeselect={false}
          w={180}
        />
      </Group>
      <QueryState result={result} retry={() => reexecute({ requestPolicy: 'network-only' })}>
        {(data) => {
          // A refused field leaves partial data: the error above says why.
          const list = data.tenant?.apiKeys;
          if (!list) return null;
          const keys = list.nodes;
          const page = list.pageInfo;
          if (keys.length === 0 && cursors.length === 0) {
            return (
              <Card withBorder>
                {state || environment ? (
                  <Empty title="No keys match these filters">Choose another state or environment.</Empty>
                ) : (
                  <Empty title="No API keys yet">
                    {canManage ? 'Create a key for each backend that calls tenantgate.' : 'An admin or owner can create one.'}
                  </Empty>
                )}
              </Card>
            );
          }
          return (
            <>
              <Card withBorder p={0}>
                <Table.ScrollContainer minWidth={1000}>
                  <Table striped highlightOnHover verticalSpacing="sm" aria-label="API keys">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>Name</Table.Th>
                        <Table.Th>State</Table.Th>
                        <Table.Th>Scopes</Table.Th>
                        <Table.Th>Environment</Table.Th>
                        <Table.Th>Last used</Table.Th>
                        <Table.Th>Created by</Table.Th>
                        <Table.Th>Expires</Table.Th>
                        {canManage && <Table.Th>Actions</Table.Th>}
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {keys.map((k) => {
                        const usable = k.state === 'ACTIVE' || k.state === 'ROTATING';
                        return (
                          <Table.Tr key={k.id} data-key-id={k.id}>
                            <Table.Td>
                              <Anchor component={Link} to={`/keys/${k.id}`} fw={600}>
                                {k.name}
                              </Anchor>
                              <Text size="xs" ff="monospace" style={{ whiteSpace: 'nowrap' }}>
                                {k.displayPrefix}…
                              </Text>
                              <Text size="xs" c="dimmed">
                                {rateLabel(k.rateLimit)}
                              </Text>
                            </Table.Td>
                            <Table.Td miw={100}>
                              <StateBadge state={k.state} />
                            </Table.Td>
                            <Table.Td>
                              <Text size="xs">{k.scopes.length ? k.scopes.map(scopeLabel).join(', ') : 'none'}</Text>
                            </Table.Td>
                            <Table.Td>
                              <EnvironmentBadge environment={k.environment} />
                            </Table.Td>
                            <Table.Td fz="sm">{when(k.lastUsedAt, 'never')}</Table.Td>
                            <Table.Td fz="sm" miw={170} style={{ overflowWrap: 'anywhere' }}>
                              {creatorName(creators, k.createdById)}
                            </Table.Td>
                            <Table.Td fz="sm">{when(k.expiresAt, 'never')}</Table.Td>
                            {canManage && (
                              <Table.Td>
                                {usable && (
                                  <Group gap={6} wrap="nowrap">
                                    <Button size="xs" variant="default" onClick={() => actions.rotate(k)} aria-label={`Rotate ${k.name}`}>
                                      Rotate
                                    </Button>
                                    <Button size="xs" variant="outline" color="red.9" onClick={() => actions.revoke(k)} aria-label={`Revoke ${k.name}`}>
                                      Revoke
                                    </Button>
                                  </Group>
                                )}
                              </Table.Td>
                            )}
                          </Table.Tr>
                        );
                      })}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              </Card>
              {(cursors.length > 0 || page.hasNextPage) && (
                <Group justify="space-between" mt="md">
                  <Button variant="default" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
                    Previous
                  </Button>
                  <Text size="sm" c="dimmed">
                    Page {cursors.length + 1}
                  </Text>
                  <Button
                    variant="default"
                    disabled={!page.hasNextPage || !page.endCursor}
                    onClick={() => setCursors((c) => [...c, page.endCursor])}
                  >
                    Next
                  </Button>
                </Group>
              )}
            </>
          );
        }}
      </QueryState>
      <CreateKeyModal
        opened={creating}
        onClose={() => setCreating(false)}
        onCreated={(shown) => {
          setCreating(false);
          actions.showSecret(shown);
          notifications.show({ closeButtonProps: { 'aria-label': 'Dismiss' }, color: 'green', message: `Key “${shown.name}” created.` });
        }}
      />
      {actions.elements}
    </>
  );
}
