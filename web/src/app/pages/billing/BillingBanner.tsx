// The billing notices every page shows (the Shell renders this): a trial that is running
// or ending, a failed payment, a subscription set to end. Only for the roles that may read
// billing (owners, admins, billing members); silent on the billing page itself, which says
// the same in full.
import { Alert, Anchor, Text } from '@mantine/core';
import { Link, useLocation } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../../../gql';
import type { Role } from '../../../gql/graphql';
import { permissions } from '../../auth/viewer';
import { day, timeUntil } from './format';

export const BillingBannerDocument = graphql(`
  query BillingBanner {
    tenant {
      id
      billing {
        warning
        subscription {
          status
          trialEnd
          cancelAtPeriodEnd
          plan {
            key
            name
          }
        }
      }
    }
  }
`);

export function BillingBanner({ role }: { role: Role | null }) {
  const { pathname } = useLocation();
  const canRead = permissions(role).readBilling;
  const [result] = useQuery({ query: BillingBannerDocument, pause: !canRead });
  if (!canRead || pathname.startsWith('/billing')) return null;
  const billing = result.data?.tenant.billing;
  const sub = billing?.subscription;
  if (!billing || !sub) return null;
  const link = (
    <Anchor component={Link} to="/billing" size="sm" fw={600}>
      Go to billing
    </Anchor>
  );
  if (sub.status === 'PAST_DUE' || sub.status === 'UNPAID') {
    return (
      <Alert color="red" mb="md" title={sub.status === 'PAST_DUE' ? 'A payment failed' : 'Payments failed'} role="alert" data-testid="billing-banner">
        <Text size="sm">{billing.warning ?? 'Update your payment method to keep your plan.'}</Text>
        {link}
      </Alert>
    );
  }
  if (billing.warning) {
    return (
      <Alert color="yellow" mb="md" title="Your subscription is ending" data-testid="billing-banner">
        <Text size="sm">{billing.warning}</Text>
        {link}
      </Alert>
    );
  }
  if (sub.status === 'TRIALING' && sub.trialEnd) {
    return (
      <Alert color="blue" mb="md" title={`${sub.plan?.name ?? 'Paid plan'} trial`} data-testid="billing-banner">
        <Text size="sm">
          Your free trial ends on {day(sub.trialEnd)} ({timeUntil(sub.trialEnd)}); then the subscription continues and the
          first payment is charged.
        </Text>
        {link}
      </Alert>
    );
  }
  return null;
}
