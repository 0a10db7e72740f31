// How keys read on screen: scope names as the API writes them, state badges, dates.
import { Badge } from '@mantine/core';
import type { ApiKeyEnvironment, ApiKeyScope, ApiKeyState } from '../../../gql/graphql';

/** Every scope there is (the schema's `ApiKeyScope`), with what it allows. */
export const SCOPES: { value: ApiKeyScope; label: string; description: string }[] = [
  { value: 'TENANT_READ', label: 'tenant:read', description: 'Read the workspace itself' },
  { value: 'MEMBERS_READ', label: 'members:read', description: 'Read members and invitations' },
  { value: 'KEYS_READ', label: 'keys:read', description: "Read the workspace's API keys" },
  { value: 'KEYS_WRITE', label: 'keys:write', description: 'Create, rotate and revoke keys (never beyond its own)' },
  { value: 'AUDIT_READ', label: 'audit:read', description: 'Read the audit log' },
  { value: 'BILLING_READ', label: 'billing:read', description: 'Read the subscription and invoices' },
  { value: 'USAGE_READ', label: 'usage:read', description: 'Read usage and quotas' },
  { value: 'USAGE_WRITE', label: 'usage:write', description: 'Record usage' },
  { value: 'WEBHOOKS_READ', label: 'webhooks:read', description: 'Read webhook endpoints and their deliveries' },
  { value: 'WEBHOOKS_WRITE', label: 'webhooks:write', description: 'Manage webhook endpoints, replay and test deliveries' },
];

export function scopeLabel(s: ApiKeyScope): string {
  return SCOPES.find((x) => x.value === s)?.label ?? s.toLowerCase();
}

// Pale fills with dark text (autoContrast): readable at badge size (WCAG AA).
const STATE_COLORS: Record<ApiKeyState, string> = {
  ACTIVE: 'green.2',
  ROTATING: 'yellow.3',
  REVOKED: 'red.2',
  EXPIRED: 'gray.3',
};

export function StateBadge({ state }: { state: ApiKeyState }) {
  return (
    <Badge color={STATE_COLORS[state]} variant="filled" autoContrast miw="fit-content" styles={{ label: { overflow: 'visible' } }}>
      {state.toLowerCase()}
    </Badge>
  );
}

export function EnvironmentBadge({ environment }: { environment: ApiKeyEnvironment }) {
  return (
    <Badge color={environment === 'LIVE' ? 'indigo.9' : 'grape.9'} variant="outline" miw="fit-content">
      {environment.toLowerCase()}
    </Badge>
  );
}

/** A date and time in the reader's locale; `fallback` when absent. */
export { formatDateTime as when } from '../../format';

/** "1,000 / hour", "10 / 30 s". */
export function rateLabel(rate: { limit: number; periodSeconds: number } | null | undefined): string {
  if (!rate) return "Plan's limit";
  const p = rate.periodSeconds;
  const period =
    p === 1 ? 'second' : p === 60 ? 'minute' : p === 3600 ? 'hour' : p === 86400 ? 'day' : `${p.toLocaleString()} s`;
  return `${rate.limit.toLocaleString()} / ${period}`;
}

/** Grace periods offered when rotating (the server allows 0 to 30 days). */
export const GRACE_PERIODS = [
  { value: '0', label: 'None: the old secret stops now' },
  { value: '3600', label: '1 hour' },
  { value: '86400', label: '24 hours' },
  { value: '604800', label: '7 days' },
];
