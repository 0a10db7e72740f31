// The audit page's filter as the API takes it (`AuditLogFilter`), built from the form's
// values, and the same rules applied to entries pushed live (the feed is unfiltered).
import type { AuditLogFilter } from '../../../gql/graphql';

export interface FilterForm {
  actor: string | null;
  action: string;
  /** yyyy-mm-dd (the date input's value), the first day shown; '' for none. */
  from: string;
  /** yyyy-mm-dd, the last day shown (inclusive); '' for none. */
  to: string;
}

/** Local midnight of a yyyy-mm-dd date, `days` later, as an ISO instant. */
export function midnight(date: string, days = 0): string {
  const d = new Date(`${date}T00:00:00`);
  d.setDate(d.getDate() + days);
  return d.toISOString();
}

/** Whether the dates are the wrong way round. */
export function badRange(f: FilterForm): boolean {
  return Boolean(f.from && f.to && f.to < f.from);
}

/** The API's filter: whole local days, `to` included (so `until` is the next midnight). */
export function toFilter(f: FilterForm): AuditLogFilter {
  const out: AuditLogFilter = {};
  const action = f.action.trim();
  if (action) out.action = action;
  if (f.actor) out.actor = f.actor;
  if (f.from) out.since = midnight(f.from);
  if (f.to && !badRange(f)) out.until = midnight(f.to, 1);
  return out;
}

/** Whether an entry passes the filter (as the server would decide). */
export function matches(e: { action: string; actorId: string | null; createdAt: string }, f: AuditLogFilter): boolean {
  if (f.action && e.action !== f.action) return false;
  if (f.actor && e.actorId !== f.actor) return false;
  const at = Date.parse(e.createdAt);
  if (f.since && at < Date.parse(f.since)) return false;
  if (f.until && at >= Date.parse(f.until)) return false;
  return true;
}
