import { describe, expect, it } from 'vitest';
import '../../zod-config';
import { changesOf, settingsSchema, valuesOf } from './schema';

const saved = valuesOf({ name: 'Acme', slug: 'acme', branding: { primaryColor: '#4f46e5' } });

describe('settings form', () => {
  it('sends only what changed, and branding whole', () => {
    expect(changesOf(saved, { ...saved })).toEqual({});
    expect(changesOf(saved, { ...saved, name: ' Acme Inc ' })).toEqual({ name: 'Acme Inc' });
    expect(changesOf(saved, { ...saved, accentColor: '#ff0000' })).toEqual({
      branding: { displayName: null, logoUrl: null, primaryColor: '#4f46e5', accentColor: '#ff0000', supportEmail: null },
    });
  });

  it('checks the rules the server checks', () => {
    expect(settingsSchema.safeParse(saved).success).toBe(true);
    for (const bad of [
      { slug: 'Acme' },
      { slug: '-a' },
      { primaryColor: 'red' },
      { logoUrl: 'http://x.example/logo.png' },
      { supportEmail: 'nope' },
      { name: ' ' },
    ]) {
      expect(settingsSchema.safeParse({ ...saved, ...bad }).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
