// A small GraphQL-over-HTTP client for the tenantgate API.
//
// request() resolves with `data` or rejects with a GraphQLRequestError that always has a
// `code` (the server's `extensions.code`, or one derived here for transport failures),
// a human-readable `message` and, when the server gave one, a `requestId`.
//
// The server's CSRF rule: a POST must be `application/json` or nothing runs, so every
// request is a JSON POST. Non-2xx responses still carry a GraphQL JSON body and are parsed.

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED'
  | 'PAYMENT_REQUIRED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

/** One entry of a GraphQL response's `errors` list. */
export interface GraphQLErrorEntry {
  message: string;
  path?: ReadonlyArray<string | number>;
  locations?: ReadonlyArray<{ line: number; column: number }>;
  extensions?: { code?: string; requestId?: string; [key: string]: unknown };
}

export class GraphQLRequestError extends Error {
  override readonly name = 'GraphQLRequestError';
  /** `extensions.code` of the first error, or a code derived from the transport failure. */
  readonly code: ErrorCode | (string & {});
  readonly requestId: string | undefined;
  /** HTTP status, or undefined when no response arrived. */
  readonly status: number | undefined;
  /** All errors the server returned (empty for transport failures). */
  readonly errors: readonly GraphQLErrorEntry[];
  /** `extensions` of the first error (e.g. `retryAfter` for RATE_LIMITED). */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(init: {
    message: string;
    code: string;
    requestId?: string | undefined;
    status?: number | undefined;
    errors?: readonly GraphQLErrorEntry[];
    extensions?: Record<string, unknown>;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.requestId = init.requestId;
    this.status = init.status;
    this.errors = init.errors ?? [];
    this.extensions = init.extensions ?? {};
  }
}

export function isGraphQLRequestError(e: unknown): e is GraphQLRequestError {
  return e instanceof GraphQLRequestError;
}

export interface ClientOptions {
  /** Defaults to `/graphql` (same origin). */
  endpoint?: string;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Returns the bearer token to send, or null for anonymous requests. */
  getToken?: () => string | null | undefined;
}

export interface RequestOptions {
  operationName?: string;
  signal?: AbortSignal;
}

export interface GraphQLClient {
  request<TData, TVariables extends Record<string, unknown> = Record<string, unknown>>(
    query: string,
    variables?: TVariables,
    options?: RequestOptions,
  ): Promise<TData>;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'BAD_USER_INPUT',
  401: 'UNAUTHENTICATED',
  402: 'PAYMENT_REQUIRED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  429: 'RATE_LIMITED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'UNAVAILABLE',
};

function codeForStatus(status: number): ErrorCode {
  return STATUS_CODES[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_USER_INPUT');
}

function nonJsonCode(status: number): ErrorCode {
  if (status === 429) return 'RATE_LIMITED';
  if (status === 502 || status === 503 || status === 504) return 'UNAVAILABLE';
  return 'INTERNAL';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toErrorEntry(raw: unknown): GraphQLErrorEntry {
  if (!isRecord(raw)) return { message: String(raw) };
  const message = typeof raw.message === 'string' && raw.message ? raw.message : 'Unknown error';
  const entry: GraphQLErrorEntry = { message };
  if (isRecord(raw.extensions)) entry.extensions = raw.extensions as GraphQLErrorEntry['extensions'];
  if (Array.isArray(raw.path)) entry.path = raw.path as GraphQLErrorEntry['path'];
  return entry;
}

export function createClient(options: ClientOptions = {}): GraphQLClient {
  const endpoint = options.endpoint ?? '/graphql';

  return {
    async request<TData, TVariables extends Record<string, unknown>>(
      query: string,
      variables?: TVariables,
      reqOptions: RequestOptions = {},
    ): Promise<TData> {
      const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
      const headers: Record<string, string> = {
        'Content-Type': 'application/json',
        Accept: 'application/graphql-response+json, application/json',
      };
      const token = options.getToken?.();
      if (token) headers.Authorization = `Bearer ${token}`;

      let response: Response;
      try {
        response = await doFetch(endpoint, {
          method: 'POST',
          headers,
          body: JSON.stringify({
            query,
            variables: variables ?? {},
            operationName: reqOptions.operationName ?? null,
          }),
          credentials: 'same-origin',
          signal: reqOptions.signal,
        });
      } catch (cause) {
        // A caller's abort is not a server problem: let it through untouched.
        if (reqOptions.signal?.aborted) throw cause;
        throw new GraphQLRequestError({
          code: 'UNAVAILABLE',
          message: 'Cannot reach the server. Check your connection and try again.',
          cause,
        });
      }

      const headerRequestId = response.headers.get('x-request-id') ?? undefined;
      let text: string;
      try {
        text = await response.text();
      } catch (cause) {
        if (reqOptions.signal?.aborted) throw cause;
        throw new GraphQLRequestError({
          code: 'UNAVAILABLE',
          message: 'The connection to the server was interrupted. Try again.',
          status: response.status,
          requestId: headerRequestId,
          cause,
        });
      }

      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (cause) {
        // Not a GraphQL body at all (a proxy's error page, an HTML fallback, …).
        const code = nonJsonCode(response.status);
        throw new GraphQLRequestError({
          code,
          message:
            code === 'RATE_LIMITED'
              ? 'Too many requests. Wait a moment and try again.'
              : code === 'UNAVAILABLE'
                ? `The server is unavailable right now (HTTP ${response.status}). Try again in a moment.`
                : `The server sent an unexpected response (HTTP ${response.status}).`,
          status: response.status,
          requestId: headerRequestId,
          cause,
        });
      }

      if (!isRecord(body)) {
        throw new GraphQLRequestError({
          code: 'INTERNAL',
          message: `The server sent a malformed GraphQL response (HTTP ${response.status}).`,
          status: response.status,
          requestId: headerRequestId,
        });
      }

      if (Array.isArray(body.errors) && body.errors.length > 0) {
        const errors = body.errors.map(toErrorEntry);
        const first = errors[0]!;
        const ext = first.extensions ?? {};
        const code =
          typeof ext.code === 'string' && ext.code
            ? ext.code
            : response.ok
              ? 'INTERNAL'
              : codeForStatus(response.status);
        throw new GraphQLRequestError({
          code,
          message: first.message,
          requestId: typeof ext.requestId === 'string' ? ext.requestId : headerRequestId,
          status: response.status,
          errors,
          extensions: ext,
        });
      }

      if (!response.ok || !isRecord(body.data)) {
        const code = response.ok ? 'INTERNAL' : codeForStatus(response.status);
        throw new GraphQLRequestError({
          code,
          message: response.ok
            ? 'The server sent a GraphQL response without data.'
            : `The request failed (HTTP ${response.status}).`,
          status: response.status,
          requestId: headerRequestId,
        });
      }

      return body.data as TData;
    },
  };
}
