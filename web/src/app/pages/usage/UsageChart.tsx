// One metric's usage over time as bars (loaded on its own: the chart library is the
// heaviest part of the page). The chart is an image to assistive technology, described
// by its total and peak; the numbers are also in the table below it.
import '@mantine/charts/styles.css';
import { BarChart } from '@mantine/charts';
import type { UsageGranularity } from '../../../gql/graphql';
import { bucketLabel } from './range';

export function UsageChart({
  points,
  granularity,
  label,
  description,
}: {
  points: { at: string; value: number }[];
  granularity: UsageGranularity;
  label: string;
  description: string;
}) {
  const data = points.map((p) => ({ at: bucketLabel(p.at, granularity), value: p.value }));
  return (
    <div role="img" aria-label={description} data-testid="usage-chart">
      <BarChart
        h={260}
        data={data}
        dataKey="at"
        series={[{ name: 'value', label, color: 'blue.6' }]}
        tickLine="y"
        gridAxis="y"
        withTooltip
        tooltipAnimationDuration={150}
        xAxisProps={{ minTickGap: 24 }}
        valueFormatter={(v) => v.toLocaleString('en-US')}
      />
    </div>
  );
}
