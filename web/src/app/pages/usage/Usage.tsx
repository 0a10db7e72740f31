// The usage page (`/usage`): one metric's usage over the last 48 hours (by the hour) or
// 30 days (by the day), and this month's quotas, live: the `usageUpdated` feed refreshes
// the bars (through the cache) and the chart. Every member of the tenant may read it.
import { Button, Card, Group, SegmentedControl, Select, Stack, Text, Title } from '@mantine/core';
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
import { PageHeader } from '../../components/PageHeader';
import { Empty, Failed, Loading, QueryState } from '../../components/PageState';
import { count } from '../billing/format';
import { MetricsDocument, QuotasDocument, UsageSeriesDocument, UsageUpdatedDocument } from './documents';
import { QuotaBars } from './QuotaBars';
import { rangeFor, type RangeKind } from './range';

const UsageChart = lazy(async () => ({ default: (await import('./UsageChart')).UsageChart }));

/** The chart follows live usage at most this often. */
const LIVE_REFRESH_MS = 2_000;

export function Usage() {
  const [metricsResult, reexecuteMetrics] = useQuery({ query: MetricsDocument });
  const [quotasResult, reexecuteQuotas] = useQuery({ query: QuotasDocument });
  const [picked, setPicked] = useState<string | null>(null);
  const [kind, setKind] = useState<RangeKind>('48h');
  const [tick, setTick] = useState(0);

  const metrics = metricsResult.data?.metrics;
  const metric = picked ?? (metrics?.find((m) => m.key === 'api_calls') ?? metrics?.[0])?.key ?? null;
  // The range is fixed per choice (and moved on with live updates), so a render never
  // changes the query's variables by itself.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const range = useMemo(() => rangeFor(kind), [kind, tick]);
  const [series, reexecuteSeries] = useQuery({
    query: UsageSeriesDocument,
    variables: { metric: metric ?? '', ...range },
    pause: metric === null,
  });

  // Live: every push carries all the quotas (the cache puts them where QuotasDocument
  // reads them); the chart is read again, at most every LIVE_REFRESH_MS.
  const lastRefresh = useRef(0);
  const pending = useRef<number | undefined>(undefined);
  const onPush = useCallback(() => {
    const wait = Math.max(0, lastRefresh.current + LIVE_REFRESH_MS - Date.now());
    window.clearTimeout(pending.current);
    pending.current = window.setTimeout(() => {
      lastRefresh.current = Date.now();
      setTick((t) => t + 1);
      reexecuteSeries({ requestPolicy: 'network-only' });
    }, wait);
  }, [reexecuteSeries]);
  useEffect(() => () => window.clearTimeout(pending.current), []);
  const first = useRef(true);
  const [live] = useSubscription({ query: UsageUpdatedDocument }, (_prev: unknown, data) => {
    // The first push is the state at subscribe time: nothing new for the chart.
    if (first.current) first.current = false;
    else onPush();
    return data;
  });

  const names = useMemo(() => Object.fromEntries((metrics ?? []).map((m) => [m.key, m.name])), [metrics]);
  const current = metrics?.find((m) => m.key === metric);
  const points = series.data?.tenant.usage.points ?? [];
  const peak = points.reduce((best, p) => (p.value > best.value ? p : best), { at: '', value: 0 });
  const usage = series.data?.tenant.usage;
  const unit = current?.unit ?? '';
  const rangeText = kind === '48h' ? 'the last 48 hours, by the hour' : 'the last 30 days, by the day';

  return (
    <>
      <PageHeader title="Usage" description="What your workspace used, and this month's quotas." example="usage" />
      <Stack gap="lg">
        <Card withBorder padding="lg">
          <Group justify="space-between" mb="sm" wrap="wrap" gap="sm">
            <Title order={2} size="h4">
              This month&apos;s quotas
            </Title>
            <Text size="xs" c="dimmed" role="status" aria-live="polite" data-testid="live-state">
              {live.error ? 'Live updates paused' : live.data ? 'Live' : 'Connecting…'}
            </Text>
          </Group>
          <QueryState result={quotasResult} retry={() => reexecuteQuotas({ requestPolicy: 'network-only' })}>
            {(data) =>
              data.tenant.quotas.length === 0 ? (
                <Empty title="No monthly quotas on your plan">Usage is recorded without a monthly limit.</Empty>
              ) : (
                <QuotaBars quotas={data.tenant.quotas} names={names} />
              )
            }
          </QueryState>
        </Card>

        <Card withBorder padding="lg">
          <Stack gap="md">
            <Group justify="space-between" align="flex-end" wrap="wrap" gap="sm">
              <Title order={2} size="h4">
                Usage over time
              </Title>
              <Group gap="sm" align="flex-end" wrap="wrap">
                <Select
                  label="Metric"
                  data={(metrics ?? []).map((m) => ({ value: m.key, label: `${m.name} (${m.key})` }))}
                  value={metric}
                  onChange={(v) => v && setPicked(v)}
                  allowDeselect={false}
                  disabled={!metrics}
                  w={220}
                  comboboxProps={{ withinPortal: true }}
                />
                <SegmentedControl
                  aria-label="Time range"
                  value={kind}
                  onChange={(v) => setKind(v as RangeKind)}
                  data={[
                    { value: '48h', label: '48 hours' },
                    { value: '30d', label: '30 days' },
                  ]}
                />
                <Button variant="default" onClick={() => reexecuteSeries({ requestPolicy: 'network-only' })} loading={series.fetching}>
                  Refresh
                </Button>
              </Group>
            </Group>
            {metricsResult.error && <Failed error={metricsResult.error} retry={() => reexecuteMetrics({ requestPolicy: 'network-only' })} />}
            {metrics && metrics.length === 0 && <Empty title="No metrics yet">A platform admin adds metrics to record.</Empty>}
            {metric !== null && (
              <QueryState result={series} retry={() => reexecuteSeries({ requestPolicy: 'network-only' })}>
                {() =>
                  usage ? (
                    <Stack gap="xs">
                      <Text size="sm" data-testid="usage-total">
                        Total over {rangeText}: <strong>{count(usage.total)}</strong> {unit}
                        {usage.totalExact ? '' : ' (at least)'}
                      </Text>
                      <Suspense fallback={<Loading label="Loading the chart…" />}>
                        <UsageChart
                          points={points}
                          granularity={usage.granularity}
                          label={current?.name ?? usage.metric}
                          description={`${current?.name ?? usage.metric} over ${rangeText}: ${count(usage.total)} ${unit} in total${
                            peak.value > 0 ? `, at most ${count(peak.value)} in one ${kind === '48h' ? 'hour' : 'day'}` : ''
                          }.`}
                        />
                      </Suspense>
                      {usage.total === 0 && (
                        <Text size="sm" c="dimmed">
                          Nothing recorded in this range yet. Record usage with an API key holding usage:write (POST
                          /v1/usage or authorize).
                        </Text>
                      )}
                    </Stack>
                  ) : null
                }
              </QueryState>
            )}
          </Stack>
        </Card>
      </Stack>
    </>
  );
}
