// The session operations the client itself runs (refresh, sign-out, switching tenant).
import { graphql } from '../gql';

export const RefreshSessionDocument = graphql(`
  mutation RefreshSession {
    refreshSession {
      accessToken
      expiresAt
      tenantId
    }
  }
`);

export const LogOutDocument = graphql(`
  mutation LogOut {
    logOut
  }
`);

export const SwitchTenantDocument = graphql(`
  mutation SwitchTenant($tenantId: ID!) {
    switchTenant(tenantId: $tenantId) {
      accessToken
      expiresAt
    }
  }
`);
