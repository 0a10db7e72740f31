import { describe, expect, it } from 'vitest';
import { attemptLine, disableAt, eventTypesLabel, groupEventTypes } from './format';

describe('webhook formats', () => {
  it('names the event types an endpoint receives', () => {
    expect(eventTypesLabel([])).toBe('All events');
    expect(eventTypesLabel(['member.joined', 'api_key.created'])).toBe('member.joined, api_key.created');
    expect(eventTypesLabel(['a.b', 'c.d', 'e.f', 'g.h'])).toBe('a.b, c.d and 2 more');
  });

  it('groups event types by their prefix, in the order given', () => {
    const groups = groupEventTypes(['member.joined', 'member.removed', 'api_key.created', 'usage.threshold_reached']);
    expect(groups.map((g) => g.group)).toEqual(['Members', 'API keys', 'Usage']);
    expect(groups[0]?.items.map((i) => i.value)).toEqual(['member.joined', 'member.removed']);
  });

  it('says when an attempt got no answer', () => {
    expect(attemptLine({ statusCode: 200, latencyMs: 35 })).toBe('200 · 35 ms');
    expect(attemptLine({ statusCode: null, latencyMs: 15000 })).toBe('no answer · 15000 ms');
  });

  it('says when a failing endpoint is disabled: 5 days after its first failure', () => {
    expect(disableAt('2026-12-06T16:20:00Z')).toBe('2026-12-11T16:20:00.000Z');
  });
});
