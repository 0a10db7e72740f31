// The normalised cache (graphcache). Types with an `id` are entities keyed by it; plans
// and metrics by their `key`; every other object is embedded in its parent (no identity
// of its own). A unit test checks this list against schema.graphql.
import { cacheExchange, type CacheExchangeOpts } from '@urql/exchange-graphcache';
import type { QuotasQuery, UsageUpdatedSubscription } from '../gql/graphql';
import { QuotasDocument } from '../app/pages/usage/documents';

const embedded = () => null;

/** Types without an identity of their own (embedded in their parent). */
export const EMBEDDED_TYPES = [
  'AccessTokenPayload',
  'AdminQuery',
  'ApiKeyConnection',
  'ApiKeyEdge',
  'ApiKeySecret',
  'AuditEntryConnection',
  'AuditEntryEdge',
  'AuthorizeResult',
  'BillingSubscription',
  'Branding',
  'DataExportConnection',
  'DataExportEdge',
  'InvitationConnection',
  'InvitationEdge',
  'InvoiceConnection',
  'InvoiceEdge',
  'Member',
  'MemberConnection',
  'MemberEdge',
  'Membership',
  'Money',
  'PageInfo',
  'PlanCount',
  'PlanFeatures',
  'PlanLimits',
  'PlanQuota',
  'PlanRevenue',
  'PlatformStats',
  'PortalSessionPayload',
  'PurgeResult',
  'Quota',
  'RateLimit',
  'RecordUsageResult',
  'Revenue',
  'SessionPayload',
  'SignUpPayload',
  'TenantBilling',
  'TenantConnection',
  'TenantDeletion',
  'TenantEdge',
  'UsageConsumer',
  'UsageEventResult',
  'UsageGroup',
  'UsagePoint',
  'UsageSeries',
  'Viewer',
  'WebhookDeliveryConnection',
  'WebhookDeliveryEdge',
  'WebhookEndpointSecret',
] as const;

/** Types keyed by their `key` field. */
export const KEYED_BY_KEY = ['Plan', 'AdminPlan', 'Metric'] as const;

export function cacheKeys(): NonNullable<CacheExchangeOpts['keys']> {
  const keys: NonNullable<CacheExchangeOpts['keys']> = {};
  for (const t of EMBEDDED_TYPES) keys[t] = embedded;
  for (const t of KEYED_BY_KEY) keys[t] = (data) => (typeof data.key === 'string' ? data.key : null);
  return keys;
}

/**
 * The cache. Lists change through mutations the cache cannot place (a new key, a revoked
 * invitation): pages re-run their list query with `requestPolicy: 'network-only'` after
 * such a mutation, or a mutation's `updates` entry below invalidates the field.
 */
export function appCache() {
  return cacheExchange({
    keys: cacheKeys(),
    updates: {
      Mutation: {
        createApiKey: (_r, _a, cache) => cache.invalidate('Query', 'tenant'),
        rotateApiKey: (_r, _a, cache) => cache.invalidate('Query', 'tenant'),
        inviteMember: (_r, _a, cache) => cache.invalidate('Query', 'tenant'),
        revokeInvitation: (_r, _a, cache) => cache.invalidate('Query', 'tenant'),
        resendInvitation: (_r, _a, cache) => cache.invalidate('Query', 'tenant'),
        leaveTenant: (_r, _a, cache) => cache.invalidate('Query', 'tenant'),
        removeMember: (_r, _a, cache) => cache.invalidate('Query', 'tenant'),
        updateMemberRole: (_r, _a, cache) => cache.invalidate('Query', 'tenant'),
        changePlan: (_r, _a, cache) => cache.invalidate('Query', 'tenant'),
        cancelSubscription: (_r, _a, cache) => cache.invalidate('Query', 'tenant'),
        resumeSubscription: (_r, _a, cache) => cache.invalidate('Query', 'tenant'),
        suspendTenant: (_r, _a, cache) => cache.invalidate('Query', 'admin'),
        reactivateTenant: (_r, _a, cache) => cache.invalidate('Query', 'admin'),
        setTenantPlan: (_r, _a, cache) => cache.invalidate('Query', 'admin'),
      },
      Subscription: {
        // Each push is the whole list of quotas: it replaces what `tenant { quotas }` read.
        usageUpdated: (result, _a, cache) => {
          const quotas = (result as UsageUpdatedSubscription).usageUpdated;
          cache.updateQuery({ query: QuotasDocument }, (data: QuotasQuery | null) =>
            data ? { ...data, tenant: { ...data.tenant, quotas } } : data,
          );
        },
      },
    },
  });
}
