import { describe, expect, it } from 'vitest';
import { badRange, matches, midnight, toFilter } from './filters';

const entry = { action: 'api_key.create', actorId: 'u1', createdAt: '2026-12-06T10:00:00.000Z' };

describe('audit filters', () => {
  it('sends only what is set, with whole days and the last day included', () => {
    expect(toFilter({ actor: null, action: '  ', from: '', to: '' })).toEqual({});
    const f = toFilter({ actor: 'u1', action: ' api_key.create ', from: '2026-12-01', to: '2026-12-06' });
    expect(f.action).toBe('api_key.create');
    expect(f.actor).toBe('u1');
    expect(f.since).toBe(midnight('2026-12-01'));
    expect(f.until).toBe(midnight('2026-12-07'));
    expect(Date.parse(f.until!) - Date.parse(midnight('2026-12-06'))).toBe(86_400_000);
  });

  it('drops an end before the start', () => {
    const form = { actor: null, action: '', from: '2026-12-06', to: '2026-12-01' };
    expect(badRange(form)).toBe(true);
    expect(toFilter(form).until).toBeUndefined();
  });

  it('applies the same rules to live entries, comparing instants', () => {
    expect(matches(entry, {})).toBe(true);
    expect(matches(entry, { action: 'api_key.revoke' })).toBe(false);
    expect(matches(entry, { actor: 'u2' })).toBe(false);
    expect(matches(entry, { since: '2026-12-06T10:00:00Z' })).toBe(true);
    expect(matches(entry, { since: '2026-12-06T11:00:00+01:00' })).toBe(true);
    expect(matches(entry, { until: '2026-12-06T10:00:00.000Z' })).toBe(false);
    expect(matches(entry, { since: '2026-12-06T10:00:01Z' })).toBe(false);
  });
});
