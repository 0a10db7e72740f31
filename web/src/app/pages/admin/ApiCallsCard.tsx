// The admin pages' "API calls, last 30 days" card: a daily area chart with a text summary
// for assistive tech, or an empty state.
import '@mantine/charts/styles.css';
import { AreaChart } from '@mantine/charts';
import { Card, Group, Text, Title } from '@mantine/core';
import { Empty } from '../../components/PageState';
import { ChartBox, dayLabel, peakText } from './common';

export function ApiCallsCard({
  usage,
  whose,
}: {
  usage: { total: number; points: ReadonlyArray<{ at: string; value: number }> };
  /** Said in the chart's summary, e.g. "every tenant". */
  whose?: string;
}) {
  const calls = usage.points.map((p) => ({ day: dayLabel(p.at), calls: p.value }));
  return (
    <Card withBorder>
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">
          API calls, last 30 days
        </Title>
        <Text size="sm" c="dimmed">
          {usage.total.toLocaleString()} in all
        </Text>
      </Group>
      {usage.total === 0 ? (
        <Empty title="No API calls in the last 30 days" />
      ) : (
        <ChartBox summary={`API calls per day${whose ? `, ${whose},` : ' over the'} last 30 days: ${peakText(calls)}`}>
          <AreaChart
            h={220}
            data={calls}
            dataKey="day"
            series={[{ name: 'calls', label: 'API calls', color: 'indigo.6' }]}
            curveType="linear"
            withDots={false}
          />
        </ChartBox>
      )}
    </Card>
  );
}
