// The tenant whose address the app is served on (its subdomain of the portal's base domain or
// its verified custom domain), with the look the signed-out pages wear; null on the portal's
// own addresses.
import { graphql } from '../../gql';

export const HostTenantDocument = graphql(`
  query HostTenant {
    hostTenant {
      id
      name
      displayName
      logoUrl
      primaryColor
      accentColor
    }
  }
`);
