// Example operations per page of the app: `/playground?example=keys` opens these as tabs
// ("Open in playground" links from the app). Every operation validates against
// ../../schema.graphql (examples.test.ts).

export interface Example {
  /** The operation, with a comment line saying what it does. */
  query: string;
  /** JSON text for the variables editor. */
  variables?: string;
}

/** The pages that have examples, as in `?example=<page>`. */
export const EXAMPLE_PAGES = ['team', 'keys', 'billing', 'usage', 'settings', 'audit', 'admin', 'webhooks'] as const;
export type ExamplePage = (typeof EXAMPLE_PAGES)[number];

/** A range of the last `days` days ending now, for usage examples. */
function lastDays(days: number, now: Date): { from: string; to: string } {
  const to = new Date(now);
  const from = new Date(now.getTime() - days * 24 * 60 * 60 * 1000);
  return { from: from.toISOString(), to: to.toISOString() };
}

function vars(value: Record<string, unknown>): string {
  return JSON.stringify(value, null, 2);
}

/** The example tabs of `page` (the range of usage examples ends at `now`). */
export function examplesFor(page: ExamplePage, now = new Date()): Example[] {
  const month = lastDays(30, now);
  const week = lastDays(7, now);
  switch (page) {
    case 'team':
      return [
        {
          query: `# The team: members with their roles, and pending invitations.
query Team {
  tenant {
    name
    memberCount
    members(first: 50) {
      nodes { user { id email } role joinedAt }
      pageInfo { hasNextPage endCursor }
    }
    invitations(first: 50) {
      nodes { id email role status expiresAt }
    }
  }
}
`,
        },
        {
          query: `# Invite someone (admins may grant up to admin; owners any role).
mutation Invite($input: InviteMemberInput!) {
  inviteMember(input: $input) { id email role status expiresAt }
}
`,
          variables: vars({ input: { email: 'new.colleague@example.com', role: 'MEMBER' } }),
        },
        {
          query: `# Change a member's role.
mutation ChangeRole($userId: ID!, $role: Role!) {
  updateMemberRole(userId: $userId, role: $role) { user { email } role }
}
`,
          variables: vars({ userId: '<a member\'s user id from the Team query>', role: 'VIEWER' }),
        },
      ];
    case 'keys':
      return [
        {
          query: `# API keys with what each recorded over the last 30 days.
query Keys($from: DateTime!, $to: DateTime!) {
  tenant {
    apiKeys(first: 20) {
      nodes {
        id name displayPrefix environment state scopes
        rateLimit { limit periodSeconds }
        lastUsedAt expiresAt createdAt
        usage(metric: "api_calls", from: $from, to: $to, granularity: DAY) {
          total
          points { at value }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
`,
          variables: vars(month),
        },
        {
          query: `# Create a key: its secret is in the answer, once. Keep it somewhere safe.
mutation CreateKey($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    secret
    apiKey { id name displayPrefix environment scopes state }
  }
}
`,
          variables: vars({
            input: { name: 'CI deploys', scopes: ['TENANT_READ', 'USAGE_WRITE'], environment: 'TEST' },
          }),
        },
        {
          query: `# Rotate a key: a new secret now, the old one keeps working for the grace period.
mutation RotateKey($id: ID!) {
  rotateApiKey(id: $id, gracePeriodSeconds: 86400) {
    secret
    apiKey { id state rotationEndsAt }
  }
}
`,
          variables: vars({ id: '<a key id from the Keys query>' }),
        },
      ];
    case 'billing':
      return [
        {
          query: `# The plan, the subscription and recent invoices.
query Billing {
  tenant {
    plan { key name monthlyPrice { formatted } }
    billing {
      configured
      warning
      customerPortalAvailable
      subscription { status planKey interval currentPeriodEnd cancelAtPeriodEnd trialEnd }
      invoices(first: 10) {
        nodes { id number status total currency hostedInvoiceUrl createdAt }
      }
    }
  }
}
`,
        },
        {
          query: `# The plans on offer, to compare.
query Plans {
  plans {
    key name trialDays
    monthlyPrice { formatted }
    yearlyPrice { formatted }
    limits { members apiCallsPerHour monthlyQuotas { metric limit } }
    features { customBranding auditRetentionDays ssoReady customDomain }
  }
}
`,
        },
        {
          query: `# Upgrade: answers the Stripe Checkout page to open.
mutation Checkout($planKey: String!, $interval: BillingInterval!) {
  createCheckoutSession(planKey: $planKey, interval: $interval) { url }
}
`,
          variables: vars({ planKey: 'pro', interval: 'MONTH' }),
        },
      ];
    case 'usage':
      return [
        {
          query: `# This month's quotas, and API calls per day over the last week, per key.
query Usage($from: DateTime!, $to: DateTime!) {
  tenant {
    quotas { metric used limit percent resetsAt }
    usage(metric: "api_calls", from: $from, to: $to, granularity: DAY, groupBy: KEY, first: 5) {
      total
      points { at value }
      groups { apiKey { name prefix } total }
    }
  }
}
`,
          variables: vars(week),
        },
        {
          query: `# The metrics this server meters.
query Metrics {
  metrics { key name aggregation unit }
}
`,
        },
        {
          query: `# Live quota counters, pushed as usage is recorded (over WebSocket).
subscription LiveUsage {
  usageUpdated { metric used limit percent }
}
`,
        },
      ];
    case 'settings':
      return [
        {
          query: `# The workspace's name, slug and branding.
query Settings {
  tenant {
    id name slug status createdAt
    branding { displayName logoUrl primaryColor accentColor supportEmail }
    plan { features { customBranding } }
  }
}
`,
        },
        {
          query: `# Rename the workspace (branding needs a plan with custom branding).
mutation Rename($input: UpdateTenantInput!) {
  updateTenant(input: $input) { name slug branding { displayName supportEmail } }
}
`,
          variables: vars({ input: { name: 'Acme Inc.' } }),
        },
        {
          query: `# Ask for an archive of the workspace's data (owners), then follow it.
mutation ExportData {
  requestDataExport { id status progress }
}

query Exports {
  tenant {
    dataExports(first: 5) {
      nodes { id status progress createdAt expiresAt sizeBytes checksum error }
    }
  }
}

# Each read of downloadUrl mints a single-use link (send this token with it).
query ExportLink($id: ID!) {
  tenant { dataExport(id: $id) { status downloadUrl } }
}

# Status and progress as they change (over WebSocket).
subscription ExportUpdates {
  dataExportUpdated { id kind status progress }
}
`,
          variables: vars({ id: '<an export id>' }),
        },
        {
          query: `# Your own data, across every workspace.
mutation MyData {
  requestMyDataExport { id status }
}

query MyExports {
  viewer { dataExports(first: 5) { nodes { id status progress expiresAt } } }
}
`,
        },
      ];
    case 'audit':
      return [
        {
          query: `# The audit trail, newest first (filter by action, actor or dates).
query Audit($filter: AuditLogFilter) {
  tenant {
    auditLog(first: 20, filter: $filter) {
      nodes { id createdAt action actorType actorLabel targetType targetId ip }
      pageInfo { hasNextPage endCursor }
    }
  }
}
`,
          variables: vars({ filter: { since: month.from } }),
        },
        {
          query: `# New entries as they are written (over WebSocket).
subscription AuditFeed {
  auditEvents { createdAt action actorLabel targetType targetId }
}
`,
        },
      ];
    case 'webhooks':
      return [
        {
          query: `# The workspace's webhook endpoints, each with its latest deliveries.
query WebhookEndpoints {
  tenant {
    webhookEndpoints {
      id url description eventTypes enabled failingSince
      deliveries(first: 5) {
        nodes { id eventType status attemptCount createdAt attempts { statusCode latencyMs } }
      }
    }
  }
}
`,
        },
        {
          query: `# Add an endpoint: its signing secret is in the answer, shown this once.
mutation AddEndpoint($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url eventTypes } }
}
`,
          variables: vars({ input: { url: 'https://example.com/webhooks', description: 'CRM sync', eventTypes: ['member.joined'] } }),
        },
        {
          query: `# Send a test event to an endpoint.
mutation SendTest($id: ID!) {
  sendTestWebhook(id: $id) { id status }
}
`,
          variables: vars({ id: '<an endpoint id from the first tab>' }),
        },
        {
          query: `# The event types an endpoint may subscribe to.
query EventTypes {
  webhookEventTypes
}
`,
        },
      ];
    case 'admin':
      return [
        {
          query: `# Platform stats (platform admins only).
query PlatformStats {
  admin {
    stats {
      tenants activeTenants suspendedTenants users
      activeSubscriptions apiCallsToday eventsToday
      tenantsByPlan { planKey tenants }
      mrr { currency amount }
    }
  }
}
`,
        },
        {
          query: `# Tenants by name or slug, newest first.
query Tenants($search: String, $status: TenantStatus) {
  admin {
    tenants(first: 20, search: $search, status: $status) {
      nodes { id name slug status planKey createdAt memberCount }
      pageInfo { hasNextPage endCursor }
    }
  }
}
`,
          variables: vars({ search: null, status: 'ACTIVE' }),
        },
        {
          query: `# Suspend a tenant, with the reason its users will see.
mutation Suspend($id: ID!, $reason: String!) {
  suspendTenant(id: $id, reason: $reason) { id status statusReason }
}
`,
          variables: vars({ id: '<a tenant id from the Tenants query>', reason: 'Unpaid invoices' }),
        },
      ];
  }
}

/** The page named by `?example=` in `search`, if it is one of ours. */
export function examplePage(search: string): ExamplePage | null {
  const value = new URLSearchParams(search).get('example');
  return (EXAMPLE_PAGES as readonly string[]).includes(value ?? '') ? (value as ExamplePage) : null;
}
