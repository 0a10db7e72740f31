// How the webhooks pages show an endpoint's state, a delivery's status and event types.
import { Badge } from '@mantine/core';
import type { WebhookDeliveryStatus } from '../../../gql/graphql';

export { formatDateTime as when } from '../../format';

/** An endpoint's state: disabled, failing (since), or enabled. */
export function EndpointBadge({ enabled, failingSince }: { enabled: boolean; failingSince?: string | null }) {
  const [color, label] = !enabled ? ['gray.3', 'Disabled'] : failingSince ? ['orange.3', 'Failing'] : ['green.2', 'Enabled'];
  return (
    <Badge color={color} variant="filled" autoContrast miw="fit-content" tt="none" styles={{ label: { overflow: 'visible' } }}>
      {label}
    </Badge>
  );
}

const STATUS: Record<WebhookDeliveryStatus, { label: string; color: string }> = {
  PENDING: { label: 'Pending', color: 'blue.2' },
  SUCCEEDED: { label: 'Succeeded', color: 'green.2' },
  FAILED: { label: 'Failed', color: 'red.2' },
  CANCELED: { label: 'Canceled', color: 'gray.3' },
};

export function DeliveryBadge({ status }: { status: WebhookDeliveryStatus }) {
  const s = STATUS[status];
  return (
    <Badge color={s.color} variant="filled" autoContrast miw="fit-content" tt="none" styles={{ label: { overflow: 'visible' } }} data-status={status}>
      {s.label}
    </Badge>
  );
}

/** The event types an endpoint receives, in words. */
export function eventTypesLabel(types: readonly string[]): string {
  if (types.length === 0) return 'All events';
  if (types.length <= 3) return types.join(', ');
  return `${types.slice(0, 2).join(', ')} and ${types.length - 2} more`;
}

/** Event types grouped by their prefix (`member`, `api_key`, …), in the server's order. */
export function groupEventTypes(types: readonly string[]): { group: string; items: { value: string; label: string }[] }[] {
  const groups = new Map<string, { value: string; label: string }[]>();
  for (const t of types) {
    const [group = t] = t.split('.');
    const list = groups.get(group) ?? [];
    list.push({ value: t, label: t });
    groups.set(group, list);
  }
  return [...groups].map(([group, items]) => ({ group: GROUP_NAMES[group] ?? group, items }));
}

const GROUP_NAMES: Record<string, string> = {
  member: 'Members',
  invitation: 'Invitations',
  api_key: 'API keys',
  subscription: 'Subscription',
  usage: 'Usage',
  tenant: 'Workspace',
};

/** A status code and latency as one short line (`200 · 35 ms`, `no answer · 15000 ms`). */
export function attemptLine(a: { statusCode?: number | null; latencyMs: number }): string {
  return `${a.statusCode ?? 'no answer'} · ${a.latencyMs} ms`;
}

/** When an endpoint failing since `failingSince` is disabled if nothing succeeds: 5 days later. */
export function disableAt(failingSince: string): string {
  return new Date(new Date(failingSince).getTime() + 5 * 24 * 3600 * 1000).toISOString();
}
