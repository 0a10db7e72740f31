import { isGraphQLRequestError } from '../graphql/client';

const TITLES: Record<string, string> = {
  UNAUTHENTICATED: 'Not signed in',
  FORBIDDEN: 'Not allowed',
  NOT_FOUND: 'Not found',
  BAD_USER_INPUT: 'Check your input',
  CONFLICT: 'Already exists',
  RATE_LIMITED: 'Too many attempts',
  QUOTA_EXCEEDED: 'Quota exceeded',
  PAYMENT_REQUIRED: 'Payment required',
  UNAVAILABLE: 'Service unavailable',
  INTERNAL: 'Something went wrong',
};

export function ErrorNotice({ error }: { error: unknown }) {
  const gqlError = isGraphQLRequestError(error) ? error : null;
  const code = gqlError?.code ?? 'INTERNAL';
  const message = error instanceof Error ? error.message : String(error);
  const retryAfter = gqlError?.extensions.retryAfter;
  return (
    <div className="notice notice--error" role="alert" data-code={code}>
      <div className="notice__head">
        <strong className="notice__title">{TITLES[code] ?? 'Request failed'}</strong>
        <code className="notice__code">{code}</code>
      </div>
      <p className="notice__message">{message}</p>
      {typeof retryAfter === 'number' && (
        <p className="notice__meta">Try again in {retryAfter} s.</p>
      )}
      {gqlError?.requestId && (
        <p className="notice__meta">
          Request id <code>{gqlError.requestId}</code>
        </p>
      )}
    </div>
  );
}
