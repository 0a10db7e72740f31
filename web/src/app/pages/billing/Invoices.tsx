// The tenant's Stripe invoices, newest first, with Stripe's hosted page and PDF.
import { Anchor, Badge, Button, Card, Group, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import type { TenantBillingQuery } from '../../../gql/graphql';
import { Empty } from '../../components/PageState';
import { day, money } from './format';

type Connection = TenantBillingQuery['tenant']['billing']['invoices'];

const INVOICE_COLORS: Record<string, string> = { paid: 'green', open: 'orange', draft: 'gray', void: 'gray', uncollectible: 'red' };

export function Invoices({ invoices, onMore, loading }: { invoices: Connection; onMore: () => void; loading: boolean }) {
  return (
    <Card withBorder padding="lg">
      <Title order={2} size="h4" mb="sm">
        Invoices
      </Title>
      {invoices.nodes.length === 0 ? (
        <Empty title="No invoices yet">Invoices appear here once Stripe issues the first one.</Empty>
      ) : (
        <Table verticalSpacing="xs" data-testid="invoices">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Invoice</Table.Th>
              <Table.Th scope="col" visibleFrom="sm">
                Period
              </Table.Th>
              <Table.Th scope="col">Total</Table.Th>
              <Table.Th scope="col">Status</Table.Th>
              <Table.Th scope="col">Links</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {invoices.nodes.map((invoice) => (
              <Table.Tr key={invoice.id}>
                <Table.Td>
                  <Text size="sm">{invoice.number ?? 'Draft'}</Text>
                  <Text size="xs" c="dimmed">
                    {day(invoice.createdAt)}
                  </Text>
                </Table.Td>
                <Table.Td visibleFrom="sm">
                  <Text size="sm">
                    {day(invoice.periodStart)} – {day(invoice.periodEnd)}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{money(invoice.total, invoice.currency)}</Text>
                </Table.Td>
                <Table.Td>
                  <Badge variant="dot" color={INVOICE_COLORS[invoice.status] ?? 'gray'}>
                    {invoice.status}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  <Group gap="xs" wrap="wrap">
                    {invoice.hostedInvoiceUrl && (
                      <Anchor href={invoice.hostedInvoiceUrl} target="_blank" rel="noopener noreferrer" size="sm">
                        View<VisuallyHidden>{` invoice ${invoice.number ?? invoice.id}`}</VisuallyHidden>
                      </Anchor>
                    )}
                    {invoice.pdfUrl && (
                      <Anchor href={invoice.pdfUrl} target="_blank" rel="noopener noreferrer" size="sm">
                        PDF<VisuallyHidden>{` of invoice ${invoice.number ?? invoice.id}`}</VisuallyHidden>
                      </Anchor>
                    )}
                    {!invoice.hostedInvoiceUrl && !invoice.pdfUrl && (
                      <Text size="xs" c="dimmed">
                        —
                      </Text>
                    )}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {invoices.pageInfo.hasNextPage && (
        <Group mt="sm">
          <Button variant="default" size="xs" onClick={onMore} loading={loading}>
            Show more invoices
          </Button>
        </Group>
      )}
    </Card>
  );
}
