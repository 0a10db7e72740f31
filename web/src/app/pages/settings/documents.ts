// The Settings page's operations.
import { graphql } from '../../../gql';

export const TenantSettingsDocument = graphql(`
  query TenantSettings {
    tenant {
      id
      name
      slug
      plan {
        key
        name
        features {
          customBranding
        }
      }
      branding {
        displayName
        logoUrl
        primaryColor
        accentColor
        supportEmail
      }
    }
  }
`);

export const UpdateTenantDocument = graphql(`
  mutation UpdateTenant($input: UpdateTenantInput!) {
    updateTenant(input: $input) {
      id
      name
      slug
      branding {
        displayName
        logoUrl
        primaryColor
        accentColor
        supportEmail
      }
    }
  }
`);
