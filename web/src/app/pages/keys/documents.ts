// The API keys pages' operations.
import { graphql } from '../../../gql';

export const ApiKeyFields = graphql(`
  fragment ApiKeyFields on ApiKey {
    id
    name
    environment
    displayPrefix
    scopes
    state
    rateLimit {
      limit
      periodSeconds
    }
    expiresAt
    revokedAt
    rotationEndsAt
    lastUsedAt
    createdById
    createdAt
  }
`);

export const ApiKeysDocument = graphql(`
  query ApiKeys($first: Int!, $after: String, $filter: ApiKeyFilter) {
    tenant {
      id
      apiKeys(first: $first, after: $after, filter: $filter) {
        pageInfo {
          hasNextPage
          endCursor
        }
        nodes {
          ...ApiKeyFields
        }
      }
    }
  }
`);

/** Members, to name a key's creator (viewer role or higher may list them). */
export const KeyCreatorsDocument = graphql(`
  query KeyCreators {
    tenant {
      id
      members(first: 100) {
        pageInfo {
          hasNextPage
        }
        nodes {
          user {
            id
            email
          }
        }
      }
    }
  }
`);

export const ApiKeyDocument = graphql(`
  query ApiKey($id: ID!, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {
    tenant {
      id
      apiKey(id: $id) {
        ...ApiKeyFields
        usage(metric: "api_calls", from: $from, to: $to, granularity: $granularity) {
          granularity
          environment
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

export const CreateApiKeyDocument = graphql(`
  mutation CreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      secret
      apiKey {
        ...ApiKeyFields
      }
    }
  }
`);

export const RotateApiKeyDocument = graphql(`
  mutation RotateApiKey($id: ID!, $gracePeriodSeconds: Int!) {
    rotateApiKey(id: $id, gracePeriodSeconds: $gracePeriodSeconds) {
      secret
      apiKey {
        ...ApiKeyFields
      }
    }
  }
`);

export const RevokeApiKeyDocument = graphql(`
  mutation RevokeApiKey($id: ID!) {
    revokeApiKey(id: $id) {
      ...ApiKeyFields
    }
  }
`);
