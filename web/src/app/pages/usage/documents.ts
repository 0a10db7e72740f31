// The usage page's operations. Every member of the tenant may read quotas, usage and the
// live `usageUpdated` feed (ARCHITECTURE.md's role matrix).
import { graphql } from '../../../gql';

/** This month's quotas: the usage page's bars and the app-wide banner (kept live by
 * `usageUpdated` through the cache: src/graphql/cache.ts). */
export const QuotasDocument = graphql(`
  query Quotas {
    tenant {
      id
      quotas {
        metric
        used
        limit
        percent
        resetsAt
      }
    }
  }
`);

export const MetricsDocument = graphql(`
  query UsageMetrics {
    metrics {
      key
      name
      unit
      aggregation
    }
  }
`);

export const UsageSeriesDocument = graphql(`
  query UsageSeries($metric: String!, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {
    tenant {
      id
      usage(metric: $metric, from: $from, to: $to, granularity: $granularity) {
        metric
        granularity
        from
        to
        total
        totalExact
        points {
          at
          value
        }
      }
    }
  }
`);

export const UsageUpdatedDocument = graphql(`
  subscription UsageUpdated {
    usageUpdated {
      metric
      used
      limit
      percent
      resetsAt
    }
  }
`);
