// The publishable keys page's operations.
import { graphql } from '../../../gql';

export const PublishableDocument = graphql(`
  query Publishable {
    tenant {
      id
      publishableKeys {
        id
        name
        environment
        key
        createdAt
        revokedAt
      }
      allowedOrigins {
        origin
        createdAt
      }
    }
  }
`);

export const CreatePublishableKeyDocument = graphql(`
  mutation CreatePublishableKey($input: CreatePublishableKeyInput!) {
    createPublishableKey(input: $input) {
      id
      name
      environment
      key
      createdAt
      revokedAt
    }
  }
`);

export const RevokePublishableKeyDocument = graphql(`
  mutation RevokePublishableKey($id: ID!) {
    revokePublishableKey(id: $id) {
      id
      revokedAt
    }
  }
`);

export const AddAllowedOriginDocument = graphql(`
  mutation AddAllowedOrigin($origin: String!) {
    addAllowedOrigin(origin: $origin) {
      origin
      createdAt
    }
  }
`);

export const RemoveAllowedOriginDocument = graphql(`
  mutation RemoveAllowedOrigin($origin: String!) {
    removeAllowedOrigin(origin: $origin)
  }
`);
