// The webhooks pages' operations.
import { graphql } from '../../../gql';

export const WebhookEndpointFields = graphql(`
  fragment WebhookEndpointFields on WebhookEndpoint {
    id
    url
    description
    eventTypes
    enabled
    disabledReason
    disabledAt
    failingSince
    previousSecretExpiresAt
    createdAt
    updatedAt
  }
`);

export const WebhookAttemptFields = graphql(`
  fragment WebhookAttemptFields on WebhookAttempt {
    id
    attemptedAt
    statusCode
    latencyMs
    responseExcerpt
    error
  }
`);

export const WebhookDeliveryFields = graphql(`
  fragment WebhookDeliveryFields on WebhookDelivery {
    id
    endpointId
    eventId
    eventType
    payload
    status
    attemptCount
    nextAttemptAt
    replayOf
    createdAt
    completedAt
    attempts {
      ...WebhookAttemptFields
    }
  }
`);

/** The list: every endpoint with its latest delivery. */
export const WebhookEndpointsDocument = graphql(`
  query WebhookEndpoints {
    tenant {
      id
      webhookEndpoints {
        ...WebhookEndpointFields
        deliveries(first: 1) {
          nodes {
            id
            eventType
            status
            createdAt
            completedAt
          }
        }
      }
    }
  }
`);

/** One endpoint and a page of its delivery log (newest first). */
export const WebhookEndpointDocument = graphql(`
  query WebhookEndpoint($id: ID!, $first: Int!, $after: String) {
    tenant {
      id
      webhookEndpoint(id: $id) {
        ...WebhookEndpointFields
        deliveries(first: $first, after: $after) {
          pageInfo {
            hasNextPage
            endCursor
          }
          nodes {
            ...WebhookDeliveryFields
          }
        }
      }
    }
  }
`);

export const WebhookEventTypesDocument = graphql(`
  query WebhookEventTypes {
    webhookEventTypes
  }
`);

export const CreateWebhookEndpointDocument = graphql(`
  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {
    createWebhookEndpoint(input: $input) {
      secret
      endpoint {
        ...WebhookEndpointFields
      }
    }
  }
`);

export const UpdateWebhookEndpointDocument = graphql(`
  mutation UpdateWebhookEndpoint($input: UpdateWebhookEndpointInput!) {
    updateWebhookEndpoint(input: $input) {
      ...WebhookEndpointFields
    }
  }
`);

export const DeleteWebhookEndpointDocument = graphql(`
  mutation DeleteWebhookEndpoint($id: ID!) {
    deleteWebhookEndpoint(id: $id) {
      id
    }
  }
`);

export const RotateWebhookSecretDocument = graphql(`
  mutation RotateWebhookSecret($id: ID!) {
    rotateWebhookSecret(id: $id) {
      secret
      endpoint {
        ...WebhookEndpointFields
      }
    }
  }
`);

export const SendTestWebhookDocument = graphql(`
  mutation SendTestWebhook($id: ID!) {
    sendTestWebhook(id: $id) {
      ...WebhookDeliveryFields
    }
  }
`);

export const ReplayWebhookDeliveryDocument = graphql(`
  mutation ReplayWebhookDelivery($id: ID!) {
    replayWebhookDelivery(id: $id) {
      ...WebhookDeliveryFields
    }
  }
`);
