// A live preview of the branding as the form stands: the header, a primary button, the
// accent and the support address, in the shades the portal would use (brand.ts).
import { Badge, Box, Card, Group, Stack, Text } from '@mantine/core';
import { parseHex, shadesOf, textOn } from '../../layout/brand';
import type { SettingsValues } from './schema';

const DEFAULT_PRIMARY = '#364fc7';

export function Preview({ values }: { values: SettingsValues }) {
  const primary = parseHex(values.primaryColor) ? values.primaryColor : null;
  const accent = parseHex(values.accentColor) ? values.accentColor : null;
  const strong = (primary && shadesOf(primary)?.[8]) || DEFAULT_PRIMARY;
  const name = values.displayName.trim() || values.name.trim() || 'Your workspace';
  const logo = /^https:\/\/\S+$/.test(values.logoUrl.trim()) ? values.logoUrl.trim() : null;
  return (
    <Card withBorder padding={0} aria-label="Branding preview" role="region" data-testid="branding-preview">
      <Group px="md" py="sm" gap={8} wrap="nowrap" style={{ borderBottom: '1px solid var(--mantine-color-gray-3)' }}>
        {logo && <img src={logo} alt="" height={24} />}
        <Text fw={700} truncate>
          {name}
        </Text>
      </Group>
      <Stack p="md" gap="sm">
        <Text size="sm">This is how your members see the portal.</Text>
        <Group gap="sm">
          <Box
            component="span"
            data-testid="preview-button"
            px="md"
            py={6}
            style={{ background: strong, color: '#ffffff', borderRadius: 'var(--mantine-radius-md)', fontSize: 14, fontWeight: 600 }}
          >
            Primary action
          </Box>
          {accent && (
            <Badge
              style={{ background: accent, color: textOn(accent) }}
              data-testid="preview-accent"
            >
              Accent
            </Badge>
          )}
        </Group>
        {values.supportEmail.trim() && (
          <Text size="sm">
            Need help? Write to{' '}
            <Text span fw={600} style={{ color: strong }}>
              {values.supportEmail.trim()}
            </Text>
          </Text>
        )}
      </Stack>
    </Card>
  );
}
