// The admin dashboard's operations (platform admins only; every read is audited on the
// server, in the tenant's trail or the platform's).
import { graphql } from '../../../gql';

export const AdminTenantsDocument = graphql(`
  query AdminTenants(
    $first: Int
    $after: String
    $search: String
    $status: TenantStatus
    $plan: String
    $orderBy: TenantOrder
  ) {
    admin {
      plans {
        key
        name
      }
      tenants(first: $first, after: $after, search: $search, status: $status, plan: $plan, orderBy: $orderBy) {
        pageInfo {
          hasNextPage
          endCursor
        }
        nodes {
          id
          name
          slug
          status
          planKey
          memberCount
          createdAt
        }
      }
    }
  }
`);

export const AdminTenantDocument = graphql(`
  query AdminTenant($id: ID!, $from: DateTime!, $to: DateTime!) {
    admin {
      plans {
        key
        name
      }
      tenant(id: $id) {
        id
        name
        slug
        status
        statusReason
        planKey
        createdAt
        memberCount
        plan {
          key
          name
        }
        members(first: 50) {
          nodes {
            role
            joinedAt
            user {
              id
              email
            }
          }
        }
        apiKeys(first: 50) {
          nodes {
            id
            name
            displayPrefix
            environment
            state
            scopes
            lastUsedAt
            createdAt
          }
        }
        billing {
          configured
          warning
          subscription {
            status
            planKey
            interval
            currentPeriodEnd
            cancelAtPeriodEnd
            trialEnd
          }
        }
        usage(metric: "api_calls", from: $from, to: $to, granularity: DAY) {
          total
          points {
            at
            value
          }
        }
      }
    }
  }
`);

export const AdminTenantAuditDocument = graphql(`
  query AdminTenantAudit($id: ID!, $after: String) {
    admin {
      tenant(id: $id) {
        id
        auditLog(first: 20, after: $after) {
          pageInfo {
            hasNextPage
            endCursor
          }
          nodes {
            id
            action
            actorType
            actorLabel
            ip
            createdAt
          }
        }
      }
    }
  }
`);

export const SuspendTenantDocument = graphql(`
  mutation SuspendTenant($id: ID!, $reason: String!) {
    suspendTenant(id: $id, reason: $reason) {
      id
      status
      statusReason
    }
  }
`);

export const ReactivateTenantDocument = graphql(`
  mutation ReactivateTenant($id: ID!) {
    reactivateTenant(id: $id) {
      id
      status
      statusReason
    }
  }
`);

export const SetTenantPlanDocument = graphql(`
  mutation SetTenantPlan($tenantId: ID!, $planKey: String!) {
    setTenantPlan(tenantId: $tenantId, planKey: $planKey) {
      id
      planKey
      plan {
        key
        name
      }
    }
  }
`);

export const AdminStatsDocument = graphql(`
  query AdminStats($from: DateTime!, $to: DateTime!) {
    admin {
      plans {
        key
        name
      }
      stats {
        tenants
        activeTenants
        suspendedTenants
        users
        activeUsers
        tenantsByPlan {
          planKey
          tenants
        }
        activeSubscriptions
        mrr {
          currency
          amount
        }
        byPlan {
          planKey
          activeSubscriptions
          mrr {
            currency
            amount
          }
        }
        apiCallsToday
        eventsToday
      }
      usage(metric: "api_calls", from: $from, to: $to, granularity: DAY) {
        total
        points {
          at
          value
        }
      }
      topConsumers(metric: "api_calls", from: $from, to: $to, first: 10) {
        total
        tenant {
          id
          name
          slug
        }
      }
    }
  }
`);
