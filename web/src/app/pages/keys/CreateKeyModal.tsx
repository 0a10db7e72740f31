// Creating a key: name, scopes (what the schema offers), live or test, an optional expiry
// and an optional rate limit of its own. The secret goes to the caller's SecretDialog.
import {
  Button,
  Checkbox,
  Group,
  Modal,
  NumberInput,
  Radio,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  TextInput,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { zod4Resolver } from 'mantine-form-zod-resolver';
import { useMutation } from 'urql';
import { z } from 'zod';
import type { ApiKeyEnvironment, ApiKeyScope, CreateApiKeyInput } from '../../../gql/graphql';
import { ErrorAlert } from '../../components/ErrorAlert';
import { CreateApiKeyDocument } from './documents';
import { SCOPES } from './format';
import type { ShownSecret } from './SecretDialog';

const PERIODS = [
  { value: '1', label: 'per second' },
  { value: '60', label: 'per minute' },
  { value: '3600', label: 'per hour' },
  { value: '86400', label: 'per day' },
];

/** Today in the reader's time zone, as yyyy-mm-dd (the date input's format). */
function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

const schema = z
  .object({
    name: z.string().trim().min(1, 'Name the key').max(100, 'At most 100 characters'),
    scopes: z.array(z.string()),
    environment: z.enum(['LIVE', 'TEST']),
    expiresOn: z.string(),
    ownLimit: z.boolean(),
    limit: z.union([z.number(), z.string()]),
    period: z.string(),
  })
  .superRefine((v, ctx) => {
    if (v.expiresOn && v.expiresOn <= today()) {
      ctx.addIssue({ code: 'custom', path: ['expiresOn'], message: 'Choose a day after today' });
    }
    if (v.ownLimit) {
      const n = typeof v.limit === 'number' ? v.limit : Number.NaN;
      if (!Number.isInteger(n) || n < 1 || n > 1_000_000_000) {
        ctx.addIssue({ code: 'custom', path: ['limit'], message: 'A whole number from 1 to 1,000,000,000' });
      }
    }
  });

type Values = z.infer<typeof schema>;

export function CreateKeyModal({
  opened,
  onClose,
  onCreated,
}: {
  opened: boolean;
  onClose: () => void;
  onCreated: (shown: ShownSecret, id: string) => void;
}) {
  const [result, create] = useMutation(CreateApiKeyDocument);
  const form = useForm<Values>({
    initialValues: {
      name: '',
      scopes: [],
      environment: 'LIVE',
      expiresOn: '',
      ownLimit: false,
      limit: 1000,
      period: '3600',
    },
    validate: zod4Resolver(schema),
  });

  function close() {
    form.reset();
    onClose();
  }

  async function submit(v: Values) {
    const input: CreateApiKeyInput = {
      name: v.name.trim(),
      scopes: v.scopes as ApiKeyScope[],
      environment: v.environment as ApiKeyEnvironment,
    };
    if (v.expiresOn) input.expiresAt = new Date(`${v.expiresOn}T00:00:00`).toISOString();
    if (v.ownLimit) input.rateLimit = { limit: Number(v.limit), periodSeconds: Number(v.period) };
    const r = await create({ input });
    if (r.data) {
      const { secret, apiKey } = r.data.createApiKey;
      form.reset();
      onCreated({ secret, name: apiKey.name }, apiKey.id);
    }
  }

  return (
    <Modal opened={opened} onClose={close} title="Create an API key" size="lg" closeButtonProps={{ 'aria-label': 'Close' }}>
      <form noValidate onSubmit={form.onSubmit((v) => void submit(v))}>
        <Stack gap="md">
          <TextInput
            label="Name"
            description="To tell keys apart, e.g. “production backend”"
            required
            data-autofocus
            {...form.getInputProps('name')}
          />
          <Checkbox.Group
            label="Scopes"
            description="What the key may do in this API. Any key can be checked with /v1/authorize."
            {...form.getInputProps('scopes')}
          >
            <SimpleGrid cols={{ base: 1, sm: 2 }} mt="xs" spacing="xs">
              {SCOPES.map((s) => (
                <Checkbox key={s.value} value={s.value} label={s.label} description={s.description} />
              ))}
            </SimpleGrid>
          </Checkbox.Group>
          <Radio.Group label="Environment" {...form.getInputProps('environment')}>
            <Group mt="xs">
              <Radio value="LIVE" label="Live" description="Counts against quotas and billing" />
              <Radio value="TEST" label="Test" description="Usage kept apart, never billed" />
            </Group>
          </Radio.Group>
          <TextInput
            type="date"
            label="Expiry date (optional)"
            description="The key stops working at the start of this day (your time). Empty: never."
            min={today()}
            {...form.getInputProps('expiresOn')}
          />
          <Switch
            label="Its own rate limit"
            description="Off: the plan's API calls per hour"
            {...form.getInputProps('ownLimit', { type: 'checkbox' })}
          />
          {form.values.ownLimit && (
            <Group grow align="flex-start" wrap="wrap">
              <NumberInput
                label="Calls"
                min={1}
                max={1_000_000_000}
                allowDecimal={false}
                allowNegative={false}
                thousandSeparator=","
                required
                {...form.getInputProps('limit')}
              />
              <Select label="Period" data={PERIODS} allowDeselect={false} {...form.getInputProps('period')} />
            </Group>
          )}
          {result.error && <ErrorAlert error={result.error} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={result.fetching}>
              Create key
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
