// Downloading the audit log as a file: `GET /v1/audit-log/export` with the page's filters
// and the bearer token (refreshed first when about to expire, and once more on 401), saved
// through a Blob URL with the server's file name. Refusals come back as an AppError with the
// server's code, message and request id.
import type { AuditLogFilter } from '../../../gql/graphql';
import type { AppError } from '../../../graphql/errors';
import { codeForStatus } from '../../../graphql/errors';
import { refreshAccessToken } from '../../../graphql/refresh';
import { expiresSoon, getToken } from '../../../graphql/session';

export type ExportFormat = 'csv' | 'jsonl';

/** The export's URL for a filter (the same filter the page's query uses). */
export function exportUrl(format: ExportFormat, filter: AuditLogFilter): string {
  const q = new URLSearchParams({ format });
  if (filter.action) q.set('action', filter.action);
  if (filter.actor) q.set('actor', String(filter.actor));
  if (filter.since) q.set('since', String(filter.since));
  if (filter.until) q.set('until', String(filter.until));
  return `/v1/audit-log/export?${q.toString()}`;
}

/** The file name of a `Content-Disposition: attachment; filename="…"` header. */
export function fileName(disposition: string | null, format: ExportFormat): string {
  const m = disposition?.match(/filename="([^"/\\]+)"/);
  return m?.[1] ?? `audit-log.${format}`;
}

async function refusal(res: Response): Promise<AppError> {
  type Body = { errors?: { message?: string; extensions?: Record<string, unknown> }[] };
  let body: Body = {};
  try {
    body = (await res.json()) as Body;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const first = body.errors?.[0] ?? {};
  const ext = first.extensions ?? {};
  return {
    code: typeof ext.code === 'string' ? ext.code : codeForStatus(res.status),
    message: first.message ?? `The export failed (HTTP ${res.status}).`,
    requestId: typeof ext.requestId === 'string' ? ext.requestId : (res.headers.get('x-request-id') ?? undefined),
    extensions: ext,
  };
}

async function fetchExport(url: string): Promise<Response> {
  if (expiresSoon(getToken())) await refreshAccessToken({ onlyIfExpiring: true });
  const send = () => {
    const token = getToken();
    return fetch(url, { credentials: 'same-origin', headers: token ? { Authorization: `Bearer ${token}` } : {} });
  };
  const res = await send();
  if (res.status !== 401) return res;
  return (await refreshAccessToken()) ? send() : res;
}

/** Downloads the audit log in `format`; throws an AppError when the server refuses. */
export async function downloadAuditLog(format: ExportFormat, filter: AuditLogFilter): Promise<void> {
  let res: Response;
  let blob: Blob;
  try {
    res = await fetchExport(exportUrl(format, filter));
    if (!res.ok) throw await refusal(res);
    blob = await res.blob();
  } catch (e) {
    // fetch and reading the body throw TypeError when the connection fails or is cut.
    if (e instanceof TypeError) {
      throw { code: 'UNAVAILABLE', message: 'The download did not complete. Check your connection and try again.', extensions: {} } satisfies AppError;
    }
    throw e;
  }
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = fileName(res.headers.get('content-disposition'), format);
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}
