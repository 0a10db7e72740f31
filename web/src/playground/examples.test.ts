import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSchema, parse, validate } from 'graphql';
import { EXAMPLE_PAGES, examplePage, examplesFor } from './examples';

const schema = buildSchema(fs.readFileSync(path.resolve(__dirname, '../../../schema.graphql'), 'utf8'));

describe('playground examples', () => {
  it.each(EXAMPLE_PAGES)('%s: every operation validates against schema.graphql', (page) => {
    const examples = examplesFor(page, new Date('2026-12-01T00:00:00Z'));
    expect(examples.length).toBeGreaterThan(0);
    for (const { query, variables } of examples) {
      const errors = validate(schema, parse(query));
      expect(errors.map((e) => e.message), query).toEqual([]);
      if (variables) expect(() => JSON.parse(variables)).not.toThrow();
    }
  });

  it('reads the page from ?example= and ignores anything else', () => {
    expect(examplePage('?example=keys')).toBe('keys');
    expect(examplePage('?example=admin&x=1')).toBe('admin');
    expect(examplePage('?example=nope')).toBeNull();
    expect(examplePage('')).toBeNull();
  });
});
