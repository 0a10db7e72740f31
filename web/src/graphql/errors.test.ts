import { CombinedError } from '@urql/core';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { codeForStatus, ERROR_TITLES, toAppError } from './errors';

describe('toAppError', () => {
  it('takes the code, message and request id of the first GraphQL error', () => {
    const e = new CombinedError({
      graphQLErrors: [
        new GraphQLError('slug is taken', { extensions: { code: 'CONFLICT', requestId: 'r-1', field: 'slug' } }),
        new GraphQLError('second'),
      ],
    });
    const a = toAppError(e);
    expect(a.code).toBe('CONFLICT');
    expect(a.message).toBe('slug is taken');
    expect(a.requestId).toBe('r-1');
    expect(a.extensions.field).toBe('slug');
  });

  it('derives the code from the HTTP status when the error has none', () => {
    const response = new Response('{}', { status: 429, headers: { 'x-request-id': 'r-2' } });
    const e = new CombinedError({ graphQLErrors: [new GraphQLError('slow down')], response });
    expect(toAppError(e)).toMatchObject({ code: 'RATE_LIMITED', message: 'slow down', requestId: 'r-2' });
  });

  it('gives UNAVAILABLE for a network failure and names 5xx without a body', () => {
    expect(toAppError(new CombinedError({ networkError: new TypeError('Failed to fetch') })).code).toBe('UNAVAILABLE');
    const e = new CombinedError({ networkError: new Error('bad gateway'), response: new Response('x', { status: 502 }) });
    expect(toAppError(e)).toMatchObject({ code: 'UNAVAILABLE' });
    expect(toAppError(e).message).toContain('502');
  });

  it('wraps anything else as INTERNAL with its message', () => {
    expect(toAppError(new Error('boom'))).toMatchObject({ code: 'INTERNAL', message: 'boom' });
    expect(toAppError('plain')).toMatchObject({ code: 'INTERNAL', message: 'plain' });
  });

  it('maps statuses', () => {
    expect(codeForStatus(401)).toBe('UNAUTHENTICATED');
    expect(codeForStatus(418)).toBe('BAD_USER_INPUT');
    expect(codeForStatus(500)).toBe('INTERNAL');
  });
});

describe('error titles', () => {
  it('cover every code the server sends (src/error.rs)', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const rust = fs.readFileSync(path.resolve(__dirname, '../../../src/error.rs'), 'utf8');
    const codes = [...rust.matchAll(/=> "([A-Z_]+)",/g)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThanOrEqual(10);
    for (const code of codes) expect(ERROR_TITLES[code], code).toBeTruthy();
  });
});
