// The Settings form: its fields, their rules (the server's, checked here first), and the
// mapping from the server's `extensions.field` to a field of the form.
import { z } from 'zod';

export type SettingsValues = {
  name: string;
  slug: string;
  displayName: string;
  logoUrl: string;
  primaryColor: string;
  accentColor: string;
  supportEmail: string;
};

const optional = (rule: z.ZodString) => z.union([z.literal(''), rule]);
const hex = z.string().trim().regex(/^#([0-9a-f]{3}|[0-9a-f]{6})$/i, 'A hex colour such as #4f46e5');

export const settingsSchema = z.object({
  name: z.string().trim().min(1, 'Name your workspace').max(100, 'At most 100 characters'),
  slug: z
    .string()
    .trim()
    .min(1, 'Choose a slug')
    .max(48, 'At most 48 characters')
    .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'Lower-case letters, digits and dashes, not starting or ending with a dash'),
  displayName: optional(z.string().trim().max(100, 'At most 100 characters')),
  logoUrl: optional(
    z
      .string()
      .trim()
      .max(2048, 'At most 2,048 characters')
      .regex(/^https:\/\/\S+$/, 'An https:// address of an image'),
  ),
  primaryColor: optional(hex),
  accentColor: optional(hex),
  supportEmail: optional(z.string().trim().max(254, 'At most 254 characters').email('A valid email address')),
});

/** The form field a server error names (`extensions.field`), if any. */
export const SERVER_FIELDS: Record<string, keyof SettingsValues> = {
  tenantName: 'name',
  name: 'name',
  slug: 'slug',
  'branding.displayName': 'displayName',
  'branding.logoUrl': 'logoUrl',
  'branding.primaryColor': 'primaryColor',
  'branding.accentColor': 'accentColor',
  'branding.supportEmail': 'supportEmail',
};

type Branding = {
  displayName?: string | null;
  logoUrl?: string | null;
  primaryColor?: string | null;
  accentColor?: string | null;
  supportEmail?: string | null;
};

export function valuesOf(t: { name: string; slug: string; branding: Branding }): SettingsValues {
  return {
    name: t.name,
    slug: t.slug,
    displayName: t.branding.displayName ?? '',
    logoUrl: t.branding.logoUrl ?? '',
    primaryColor: t.branding.primaryColor ?? '',
    accentColor: t.branding.accentColor ?? '',
    supportEmail: t.branding.supportEmail ?? '',
  };
}

const BRANDING_FIELDS = ['displayName', 'logoUrl', 'primaryColor', 'accentColor', 'supportEmail'] as const;

/**
 * What `updateTenant` should send: only what changed. Branding goes whole (the server
 * clears absent fields), and only when one of its fields changed, so renaming works on a
 * plan without custom branding.
 */
export function changesOf(before: SettingsValues, after: SettingsValues) {
  const input: {
    name?: string;
    slug?: string;
    branding?: Record<(typeof BRANDING_FIELDS)[number], string | null>;
  } = {};
  if (after.name.trim() !== before.name) input.name = after.name.trim();
  if (after.slug.trim() !== before.slug) input.slug = after.slug.trim();
  if (BRANDING_FIELDS.some((f) => after[f].trim() !== before[f])) {
    input.branding = Object.fromEntries(BRANDING_FIELDS.map((f) => [f, after[f].trim() || null])) as Record<
      (typeof BRANDING_FIELDS)[number],
      string | null
    >;
  }
  return input;
}
