// The billing page's operations (typed by graphql-codegen; ids in the trusted-documents
// manifest). Who may run them: `plans` and `tenant { plan }` anyone in the tenant;
// `tenant { billing }` owners, admins and billing members; the mutations owners and
// billing members (src/billing/account.rs).
import { graphql } from '../../../gql';

export const PlansDocument = graphql(`
  query BillingPlans {
    viewer {
      role
    }
    tenant {
      id
      planKey
      plan {
        key
        name
      }
    }
    plans {
      key
      name
      monthlyPrice {
        amount
        currency
        formatted
      }
      yearlyPrice {
        amount
        currency
        formatted
      }
      limits {
        members
        apiCallsPerHour
        monthlyQuotas {
          metric
          limit
        }
      }
      features {
        customBranding
        auditRetentionDays
        ssoReady
        customDomain
      }
      trialDays
    }
  }
`);

export const BillingDocument = graphql(`
  query TenantBilling($first: Int!, $after: String) {
    tenant {
      id
      planKey
      billing {
        configured
        customerPortalAvailable
        warning
        subscription {
          status
          planKey
          plan {
            key
            name
          }
          interval
          currentPeriodStart
          currentPeriodEnd
          cancelAtPeriodEnd
          trialEnd
          canceledAt
        }
        invoices(first: $first, after: $after) {
          nodes {
            id
            number
            status
            total
            currency
            hostedInvoiceUrl
            pdfUrl
            periodStart
            periodEnd
            createdAt
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
    }
  }
`);

export const CheckoutDocument = graphql(`
  mutation CreateCheckoutSession($planKey: String!, $interval: BillingInterval!) {
    createCheckoutSession(planKey: $planKey, interval: $interval) {
      id
      url
    }
  }
`);

export const PortalDocument = graphql(`
  mutation CreateBillingPortalSession {
    createBillingPortalSession {
      url
    }
  }
`);

export const ChangePlanDocument = graphql(`
  mutation ChangePlan($planKey: String!, $interval: BillingInterval!) {
    changePlan(planKey: $planKey, interval: $interval) {
      status
      planKey
      interval
    }
  }
`);

export const CancelSubscriptionDocument = graphql(`
  mutation CancelSubscription($atPeriodEnd: Boolean!) {
    cancelSubscription(atPeriodEnd: $atPeriodEnd) {
      status
      cancelAtPeriodEnd
      currentPeriodEnd
    }
  }
`);

export const ResumeSubscriptionDocument = graphql(`
  mutation ResumeSubscription {
    resumeSubscription {
      status
      cancelAtPeriodEnd
    }
  }
`);
