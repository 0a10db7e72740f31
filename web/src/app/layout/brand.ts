// The tenant's primary colour as a Mantine palette: ten shades from one hex, with the
// shades that carry white text or sit as text on white kept at WCAG AA contrast (4.5:1).
export type Shades = [string, string, string, string, string, string, string, string, string, string];

type Rgb = [number, number, number];

/** `#rgb` or `#rrggbb` (as the server accepts) as [r, g, b]; null for anything else. */
export function parseHex(hex: string | null | undefined): Rgb | null {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex?.trim() ?? '');
  if (!m) return null;
  const h = m[1]!.length === 3 ? [...m[1]!].map((c) => c + c).join('') : m[1]!;
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as Rgb;
}

export function toHex([r, g, b]: Rgb): string {
  return `#${[r, g, b].map((v) => Math.round(Math.min(255, Math.max(0, v))).toString(16).padStart(2, '0')).join('')}`;
}

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** WCAG relative luminance. */
export function luminance([r, g, b]: Rgb): number {
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG contrast ratio of two colours. */
export function contrast(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];

/** The colour darkened (towards black) just enough to reach `ratio` against white. */
export function darkEnough(c: Rgb, ratio = 4.6): Rgb {
  let t = 0;
  let out = c;
  while (contrast(out, WHITE) < ratio && t < 1) {
    t += 0.02;
    out = mix(c, BLACK, t);
  }
  return out;
}

/**
 * Ten shades (0 lightest … 9 darkest) around `hex`, as Mantine's palettes go. The theme
 * uses shade 8 for filled buttons (white text) and for text on light backgrounds, so 7–9
 * are at least AA against white whatever colour the tenant picked.
 */
export function shadesOf(hex: string): Shades | null {
  const base = parseHex(hex);
  if (!base) return null;
  const strong = darkEnough(base, 4.6);
  const light = [0.92, 0.82, 0.68, 0.52, 0.36, 0.18].map((t) => toHex(mix(base, WHITE, t)));
  return [
    ...light,
    toHex(base),
    toHex(darkEnough(mix(base, strong, 0.5), 4.5)),
    toHex(strong),
    toHex(mix(strong, BLACK, 0.2)),
  ] as Shades;
}

/** Black or white, whichever reads better on `hex` (for previews on the brand colour). */
export function textOn(hex: string): '#000000' | '#ffffff' {
  const c = parseHex(hex);
  if (!c) return '#ffffff';
  return contrast(c, WHITE) >= contrast(c, BLACK) ? '#ffffff' : '#000000';
}
