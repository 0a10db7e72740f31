// The portal wears the tenant's branding: its primary colour replaces the theme's primary
// palette (the CSS variables every primary-coloured component reads), with the shades that
// carry text kept at AA contrast (see brand.ts). Rendered by the signed-in Shell only.
import { alpha, useMantineTheme } from '@mantine/core';
import { shadesOf } from './brand';

/** The CSS that recolours the primary palette `name` with `hex`; null when `hex` is not a colour. */
export function brandCss(name: string, hex: string | null | undefined, primaryShade = 8): string | null {
  const shades = hex ? shadesOf(hex) : null;
  if (!shades) return null;
  const p = primaryShade;
  const vars: Record<string, string> = {};
  shades.forEach((s, i) => {
    vars[`--mantine-color-${name}-${i}`] = s;
  });
  Object.assign(vars, {
    [`--mantine-color-${name}-text`]: shades[p]!,
    [`--mantine-color-${name}-filled`]: shades[p]!,
    [`--mantine-color-${name}-filled-hover`]: shades[p === 9 ? 8 : p + 1]!,
    [`--mantine-color-${name}-light`]: alpha(shades[p]!, 0.1),
    [`--mantine-color-${name}-light-hover`]: alpha(shades[p]!, 0.12),
    [`--mantine-color-${name}-light-color`]: shades[p]!,
    [`--mantine-color-${name}-outline`]: shades[p]!,
    [`--mantine-color-${name}-outline-hover`]: alpha(shades[p]!, 0.05),
    '--mantine-primary-color-filled': shades[p]!,
    '--mantine-primary-color-filled-hover': shades[p === 9 ? 8 : p + 1]!,
    '--mantine-primary-color-light': alpha(shades[p]!, 0.1),
    '--mantine-primary-color-light-hover': alpha(shades[p]!, 0.12),
    '--mantine-primary-color-light-color': shades[p]!,
    '--mantine-primary-color-contrast': '#ffffff',
  });
  shades.forEach((s, i) => {
    vars[`--mantine-primary-color-${i}`] = s;
  });
  const body = Object.entries(vars)
    .map(([k, v]) => `${k}: ${v};`)
    .join(' ');
  // Above Mantine's own `:root[data-mantine-color-scheme=…]` rules.
  return `:root:root[data-mantine-color-scheme], :root:root { ${body} }`;
}

/** Recolours the app's primary palette with the tenant's primary colour while mounted. */
export function BrandTheme({ primaryColor }: { primaryColor: string | null | undefined }) {
  const theme = useMantineTheme();
  const shade = typeof theme.primaryShade === 'number' ? theme.primaryShade : theme.primaryShade.light;
  const css = brandCss(theme.primaryColor, primaryColor, shade);
  if (!css) return null;
  return <style data-brand-color={primaryColor ?? ''}>{css}</style>;
}
