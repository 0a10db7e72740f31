// One shape for every failure the app shows: a code (the server's `extensions.code`, or
// one derived from the transport failure), a human message, and the request id when the
// server gave one. Pages never show a blank screen: they render an AppError.
import type { CombinedError } from '@urql/core';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'GONE'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED'
  | 'PAYMENT_REQUIRED'
  | 'UNAVAILABLE'
  | 'INTERNAL'
  | 'PERSISTED_QUERY_NOT_FOUND'
  | 'TRUSTED_DOCUMENT_REQUIRED'
  | 'REAUTHENTICATION_REQUIRED'
  | 'TENANT_PENDING_DELETION';

export interface AppError {
  code: ErrorCode | (string & {});
  message: string;
  requestId?: string | undefined;
  /** `extensions` of the first error (e.g. `retryAfter`, `field`, `limit`). */
  extensions: Readonly<Record<string, unknown>>;
}

/** A short title per code, for alerts. */
export const ERROR_TITLES: Record<string, string> = {
  UNAUTHENTICATED: 'Not signed in',
  FORBIDDEN: 'Not allowed',
  NOT_FOUND: 'Not found',
  GONE: 'No longer available',
  BAD_USER_INPUT: 'Check your input',
  CONFLICT: 'Conflict',
  RATE_LIMITED: 'Too many attempts',
  QUOTA_EXCEEDED: 'Quota exceeded',
  PAYMENT_REQUIRED: 'Upgrade needed',
  UNAVAILABLE: 'Service unavailable',
  INTERNAL: 'Something went wrong',
  PERSISTED_QUERY_NOT_FOUND: 'App out of date',
  TRUSTED_DOCUMENT_REQUIRED: 'Not allowed',
  REAUTHENTICATION_REQUIRED: 'Sign in again to continue',
  TENANT_PENDING_DELETION: 'Workspace scheduled for deletion',
};

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'BAD_USER_INPUT',
  401: 'UNAUTHENTICATED',
  402: 'PAYMENT_REQUIRED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  410: 'GONE',
  409: 'CONFLICT',
  429: 'RATE_LIMITED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'UNAVAILABLE',
};

/** The code for an HTTP status that came without a GraphQL error body. */
export function codeForStatus(status: number): ErrorCode {
  return STATUS_CODES[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_USER_INPUT');
}

function isCombinedError(e: unknown): e is CombinedError {
  return typeof e === 'object' && e !== null && 'graphQLErrors' in e && Array.isArray((e as CombinedError).graphQLErrors);
}

/** Any failure (an urql CombinedError, an Error, anything thrown) as an AppError. */
export function toAppError(e: unknown): AppError {
  if (isCombinedError(e)) {
    const first = e.graphQLErrors[0];
    if (first) {
      const ext = (first.extensions ?? {}) as Record<string, unknown>;
      const status = (e.response as Response | undefined)?.status;
      const code =
        typeof ext.code === 'string' && ext.code ? ext.code : status && status >= 400 ? codeForStatus(status) : 'INTERNAL';
      return {
        code,
        message: first.message || 'The request failed.',
        requestId: typeof ext.requestId === 'string' ? ext.requestId : requestIdOf(e.response),
        extensions: ext,
      };
    }
    const status = (e.response as Response | undefined)?.status;
    if (typeof status === 'number' && status >= 400) {
      const code = codeForStatus(status);
      return {
        code,
        message:
          code === 'UNAVAILABLE'
            ? `The server is unavailable right now (HTTP ${status}). Try again in a moment.`
            : code === 'RATE_LIMITED'
              ? 'Too many requests. Wait a moment and try again.'
              : `The request failed (HTTP ${status}).`,
        requestId: requestIdOf(e.response),
        extensions: {},
      };
    }
    return {
      code: 'UNAVAILABLE',
      message: 'Cannot reach the server. Check your connection and try again.',
      extensions: {},
    };
  }
  if (e && typeof e === 'object' && 'code' in e && 'message' in e && 'extensions' in e) return e as AppError;
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e), extensions: {} };
}

function requestIdOf(response: unknown): string | undefined {
  const headers = (response as Response | undefined)?.headers;
  return typeof headers?.get === 'function' ? (headers.get('x-request-id') ?? undefined) : undefined;
}

/** The error's code when it is a GraphQL error with that code. */
export function hasCode(e: unknown, code: ErrorCode): boolean {
  return e != null && toAppError(e).code === code;
}
