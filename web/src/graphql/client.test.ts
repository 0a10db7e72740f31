import { describe, expect, it, vi } from 'vitest';
import { createClient, GraphQLRequestError } from './client';

function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/graphql-response+json', ...headers },
  });
}

function clientReturning(response: Response | (() => Promise<Response>), token?: string) {
  const fetchMock = vi.fn<typeof fetch>(
    typeof response === 'function' ? response : async () => response,
  );
  const client = createClient({ fetch: fetchMock, getToken: () => token ?? null });
  return { client, fetchMock };
}

async function rejection(p: Promise<unknown>): Promise<GraphQLRequestError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(GraphQLRequestError);
    return e as GraphQLRequestError;
  }
  throw new Error('expected the request to fail');
}

describe('request', () => {
  it('POSTs JSON with the GraphQL-over-HTTP accept header and returns data', async () => {
    const { client, fetchMock } = clientReturning(jsonResponse({ data: { __typename: 'Query' } }));
    const data = await client.request<{ __typename: string }>('{ __typename }', { a: 1 }, {
      operationName: 'Op',
    });
    expect(data).toEqual({ __typename: 'Query' });
    const [url, init] = fetchMock.mock.calls[0]!;
    expect(url).toBe('/graphql');
    expect(init?.method).toBe('POST');
    const headers = init?.headers as Record<string, string>;
    expect(headers['Content-Type']).toBe('application/json');
    expect(headers.Accept).toBe('application/graphql-response+json, application/json');
    expect(headers.Authorization).toBeUndefined();
    expect(JSON.parse(init?.body as string)).toEqual({
      query: '{ __typename }',
      variables: { a: 1 },
      operationName: 'Op',
    });
  });

  it('sends the bearer token when there is one', async () => {
    const { client, fetchMock } = clientReturning(jsonResponse({ data: { viewer: null } }), 'tok123');
    await client.request('{ viewer { role } }');
    const headers = fetchMock.mock.calls[0]![1]?.headers as Record<string, string>;
    expect(headers.Authorization).toBe('Bearer tok123');
  });

  it('turns a 200 response with errors into an error with code, message and requestId', async () => {
    const { client } = clientReturning(
      jsonResponse({
        data: null,
        errors: [
          {
            message: 'An account with this email already exists',
            path: ['signUp'],
            extensions: { code: 'CONFLICT', requestId: 'req-42' },
          },
          { message: 'second', extensions: { code: 'INTERNAL' } },
        ],
      }),
    );
    const err = await rejection(client.request('mutation { signUp }'));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toBe('An account with this email already exists');
    expect(err.requestId).toBe('req-42');
    expect(err.status).toBe(200);
    expect(err.errors).toHaveLength(2);
    expect(err.errors[0]!.path).toEqual(['signUp']);
  });

  it('exposes the extensions of the first error (e.g. retryAfter)', async () => {
    const { client } = clientReturning(
      jsonResponse({ errors: [{ message: 'slow down', extensions: { code: 'RATE_LIMITED', retryAfter: 30 } }] }, 429),
    );
    const err = await rejection(client.request('{ a }'));
    expect(err.code).toBe('RATE_LIMITED');
    expect(err.extensions.retryAfter).toBe(30);
  });

  it('parses the GraphQL body of a 400 response instead of failing on the status', async () => {
    const { client } = clientReturning(
      jsonResponse(
        { errors: [{ message: 'Password is too weak', extensions: { code: 'BAD_USER_INPUT' } }] },
        400,
      ),
    );
    const err = await rejection(client.request('{ a }'));
    expect(err.code).toBe('BAD_USER_INPUT');
    expect(err.message).toBe('Password is too weak');
    expect(err.status).toBe(400);
  });

  it('derives a code from the status when an error has none, and takes the request id header', async () => {
    const { client } = clientReturning(
      jsonResponse({ errors: [{ message: 'Unknown field "nope"' }] }, 400, { 'X-Request-Id': 'hdr-1' }),
    );
    const err = await rejection(client.request('{ nope }'));
    expect(err.code).toBe('BAD_USER_INPUT');
    expect(err.requestId).toBe('hdr-1');

    const { client: c401 } = clientReturning(jsonResponse({ errors: [{ message: 'who?' }] }, 401));
    expect((await rejection(c401.request('{ a }'))).code).toBe('UNAUTHENTICATED');

    const { client: c200 } = clientReturning(jsonResponse({ data: null, errors: [{ message: 'oops' }] }));
    expect((await rejection(c200.request('{ a }'))).code).toBe('INTERNAL');
  });

  it('turns a network failure into UNAVAILABLE', async () => {
    const { client } = clientReturning(() => Promise.reject(new TypeError('Failed to fetch')));
    const err = await rejection(client.request('{ a }'));
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.status).toBeUndefined();
    expect(err.message).toMatch(/reach the server/);
    expect(err.cause).toBeInstanceOf(TypeError);
  });

  it('lets an abort by the caller through unchanged', async () => {
    const controller = new AbortController();
    const abortError = new DOMException('aborted', 'AbortError');
    const { client } = clientReturning(() => {
      controller.abort();
      return Promise.reject(abortError);
    });
    await expect(client.request('{ a }', {}, { signal: controller.signal })).rejects.toBe(abortError);
  });

  it('reports a non-JSON body clearly, by status', async () => {
    const html = (status: number) =>
      new Response('<html><body>Bad gateway</body></html>', {
        status,
        headers: { 'Content-Type': 'text/html' },
      });

    const { client: c502 } = clientReturning(html(502));
    const e502 = await rejection(c502.request('{ a }'));
    expect(e502.code).toBe('UNAVAILABLE');
    expect(e502.status).toBe(502);
    expect(e502.message).toMatch(/unavailable/i);

    const { client: c200 } = clientReturning(html(200));
    const e200 = await rejection(c200.request('{ a }'));
    expect(e200.code).toBe('INTERNAL');
    expect(e200.message).toMatch(/unexpected response \(HTTP 200\)/);

    const { client: c429 } = clientReturning(html(429));
    expect((await rejection(c429.request('{ a }'))).code).toBe('RATE_LIMITED');

    const { client: cEmpty } = clientReturning(new Response('', { status: 500 }));
    expect((await rejection(cEmpty.request('{ a }'))).code).toBe('INTERNAL');
  });

  it('rejects JSON that is not a GraphQL response', async () => {
    const { client: cArray } = clientReturning(jsonResponse([1, 2, 3]));
    expect((await rejection(cArray.request('{ a }'))).code).toBe('INTERNAL');

    const { client: cNoData } = clientReturning(jsonResponse({}));
    const err = await rejection(cNoData.request('{ a }'));
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toMatch(/without data/);

    const { client: c503 } = clientReturning(jsonResponse({}, 503));
    expect((await rejection(c503.request('{ a }'))).code).toBe('UNAVAILABLE');
  });

  it('treats an empty errors list as success', async () => {
    const { client } = clientReturning(jsonResponse({ data: { ok: true }, errors: [] }));
    await expect(client.request('{ ok }')).resolves.toEqual({ ok: true });
  });
});
