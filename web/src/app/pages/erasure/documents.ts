// Erasure's operations: deleting the workspace (and cancelling that), deleting one's own
// account, and signing in again when the server asks for a fresh sign-in.
import { graphql } from '../../../gql';

export const TenantDeletionDocument = graphql(`
  query TenantDeletion {
    tenant {
      id
      slug
      name
      status
      deletion {
        scheduledAt
        purgeAfter
        requestedBy
      }
    }
  }
`);

export const DeleteTenantDocument = graphql(`
  mutation DeleteTenant($confirmSlug: String!) {
    deleteTenant(confirmSlug: $confirmSlug) {
      id
      status
      statusReason
      deletion {
        scheduledAt
        purgeAfter
        requestedBy
      }
    }
  }
`);

export const CancelTenantDeletionDocument = graphql(`
  mutation CancelTenantDeletion {
    cancelTenantDeletion {
      id
      status
      statusReason
      deletion {
        scheduledAt
        purgeAfter
        requestedBy
      }
    }
  }
`);

export const DeleteMyAccountDocument = graphql(`
  mutation DeleteMyAccount {
    deleteMyAccount
  }
`);

export const ReauthenticateDocument = graphql(`
  mutation Reauthenticate($input: LogInInput!) {
    logIn(input: $input) {
      accessToken
      expiresAt
    }
  }
`);

export const PurgeTenantDocument = graphql(`
  mutation PurgeTenant($id: ID!) {
    purgeTenant(id: $id) {
      peopleErased
      rowsDeleted
      tombstone {
        id
        purgedAt
        reason
      }
    }
  }
`);
