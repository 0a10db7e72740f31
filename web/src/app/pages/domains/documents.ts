// The custom domain card's operations (Settings page) and the host's tenant (sign-in pages).
import { graphql } from '../../../gql';

export const CustomDomainDocument = graphql(`
  query CustomDomain {
    tenant {
      id
      plan {
        key
        name
        features {
          customDomain
        }
      }
      customDomain {
        domain
        status
        recordName
        recordValue
        verifiedAt
        lastCheckedAt
        lastResult
        missingSince
      }
    }
  }
`);

export const SetCustomDomainDocument = graphql(`
  mutation SetCustomDomain($domain: String!) {
    setCustomDomain(domain: $domain) {
      domain
      status
    }
  }
`);

export const VerifyCustomDomainDocument = graphql(`
  mutation VerifyCustomDomain {
    verifyCustomDomain {
      domain
      status
      lastResult
    }
  }
`);

export const RemoveCustomDomainDocument = graphql(`
  mutation RemoveCustomDomain {
    removeCustomDomain
  }
`);
