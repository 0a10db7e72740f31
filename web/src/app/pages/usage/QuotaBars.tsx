// This month's quotas as bars: blue, orange from 90 %, red from 100 %, with when each
// resets (00:00 UTC on the 1st).
import { Badge, Group, Progress, Stack, Text } from '@mantine/core';
import type { QuotasQuery } from '../../../gql/graphql';
import { count, day, QUOTA_COLORS, quotaLevel, timeUntil } from '../billing/format';

type Quota = QuotasQuery['tenant']['quotas'][number];

export function QuotaBars({ quotas, names }: { quotas: Quota[]; names: Record<string, string> }) {
  return (
    <Stack gap="md">
      {quotas.map((q) => {
        const level = quotaLevel(q.percent);
        const name = names[q.metric] ?? q.metric;
        const pct = Math.round(q.percent * 10) / 10;
        return (
          <Stack key={q.metric} gap={4} data-testid={`quota-${q.metric}`} data-level={level}>
            <Group justify="space-between" wrap="wrap" gap="xs">
              <Group gap="xs">
                <Text size="sm" fw={600}>
                  {name}
                </Text>
                {level === 'warning' && (
                  <Badge color="orange" variant="dot">
                    Nearly used up
                  </Badge>
                )}
                {level === 'over' && (
                  <Badge color="red" variant="dot">
                    Quota reached
                  </Badge>
                )}
              </Group>
              <Text size="sm" data-testid={`quota-${q.metric}-used`}>
                {count(q.used)} of {count(q.limit)} ({pct} %)
              </Text>
            </Group>
            <Progress
              value={Math.min(100, q.percent)}
              color={QUOTA_COLORS[level]}
              size="lg"
              aria-label={`${name}: ${pct} % of the monthly quota used`}
            />
            <Text size="xs" c="dimmed">
              Resets on {day(q.resetsAt)} at 00:00 UTC ({timeUntil(q.resetsAt)}).
            </Text>
          </Stack>
        );
      })}
    </Stack>
  );
}
