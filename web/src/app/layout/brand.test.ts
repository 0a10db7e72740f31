import { describe, expect, it } from 'vitest';
import { contrast, parseHex, shadesOf, textOn } from './brand';

describe('brand palette', () => {
  it('parses the hex forms the server accepts', () => {
    expect(parseHex('#4f46e5')).toEqual([0x4f, 0x46, 0xe5]);
    expect(parseHex('#fff')).toEqual([255, 255, 255]);
    expect(parseHex('red')).toBeNull();
    expect(parseHex('#12345')).toBeNull();
    expect(shadesOf('nope')).toBeNull();
  });

  it('makes ten shades, light to dark, with 7–9 readable under white text', () => {
    for (const hex of ['#facc15', '#4f46e5', '#0f766e', '#ffffff', '#000000', '#e11d48', '#22d3ee']) {
      const shades = shadesOf(hex)!;
      expect(shades).toHaveLength(10);
      const lum = shades.map((s) => contrast(parseHex(s)!, [255, 255, 255]));
      for (let i = 1; i < 10; i++) expect(lum[i]!).toBeGreaterThanOrEqual(lum[i - 1]! - 1e-9);
      for (const i of [7, 8, 9]) expect(lum[i]!).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('picks the readable text colour for a preview', () => {
    expect(textOn('#facc15')).toBe('#000000');
    expect(textOn('#1e3a8a')).toBe('#ffffff');
  });
});
