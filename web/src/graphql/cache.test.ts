import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSchema, isObjectType } from 'graphql';
import { EMBEDDED_TYPES, KEYED_BY_KEY } from './cache';

const schema = buildSchema(fs.readFileSync(path.resolve(__dirname, '../../../schema.graphql'), 'utf8'));

describe('cache keys', () => {
  it('name every object type without an id, and only those', () => {
    const roots = new Set(['Query', 'Mutation', 'Subscription']);
    const withoutId = Object.values(schema.getTypeMap())
      .filter((t) => isObjectType(t) && !t.name.startsWith('__') && !roots.has(t.name))
      .filter((t) => isObjectType(t) && !('id' in t.getFields()))
      .map((t) => t.name)
      .sort();
    const listed = [...EMBEDDED_TYPES, ...KEYED_BY_KEY].sort();
    expect(listed).toEqual(withoutId);
    for (const t of KEYED_BY_KEY) {
      const type = schema.getType(t);
      expect(isObjectType(type) && 'key' in type.getFields()).toBe(true);
    }
  });
});
