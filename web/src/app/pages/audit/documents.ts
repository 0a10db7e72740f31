// The audit page's operations.
import { graphql } from '../../../gql';

export const AuditEntryFields = graphql(`
  fragment AuditEntryFields on AuditEntry {
    id
    action
    actorType
    actorId
    actorLabel
    targetType
    targetId
    ip
    userAgent
    requestId
    before
    after
    createdAt
  }
`);

export const AuditLogDocument = graphql(`
  query AuditLog($first: Int!, $after: String, $filter: AuditLogFilter) {
    tenant {
      id
      auditLog(first: $first, after: $after, filter: $filter) {
        pageInfo {
          hasNextPage
          endCursor
        }
        nodes {
          ...AuditEntryFields
        }
      }
    }
  }
`);

/** Who may appear as an actor: members and the workspace's keys. */
export const AuditActorsDocument = graphql(`
  query AuditActors {
    tenant {
      id
      members(first: 100) {
        nodes {
          user {
            id
            email
          }
        }
      }
      apiKeys(first: 100) {
        nodes {
          id
          name
          displayPrefix
        }
      }
    }
  }
`);

export const AuditEventsDocument = graphql(`
  subscription AuditEvents {
    auditEvents {
      ...AuditEntryFields
    }
  }
`);
