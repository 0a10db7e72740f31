// Where the access token lives: in memory, mirrored to sessionStorage so that a reload of
// the tab keeps it (and the playground at /playground can send it too). sessionStorage is
// per tab and cleared when the tab closes; a new tab gets its own access token from the
// refresh cookie (HttpOnly, path /graphql), see refresh.ts.

/** The sessionStorage key shared by the app and the playground. */
export const TOKEN_STORAGE_KEY = 'tenantgate.accessToken';

let memoryToken: string | null = null;

function storage(): Storage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null; // storage disabled (privacy settings): memory only
  }
}

export function getToken(): string | null {
  if (memoryToken) return memoryToken;
  try {
    memoryToken = storage()?.getItem(TOKEN_STORAGE_KEY) || null;
  } catch {
    memoryToken = null;
  }
  return memoryToken;
}

export function setToken(token: string): void {
  memoryToken = token;
  try {
    storage()?.setItem(TOKEN_STORAGE_KEY, token);
  } catch {
    /* memory only */
  }
}

export function clearToken(): void {
  memoryToken = null;
  try {
    storage()?.removeItem(TOKEN_STORAGE_KEY);
  } catch {
    /* nothing stored */
  }
}

function claims(token: string | null): Record<string, unknown> | null {
  const part = token?.split('.')[1];
  if (!part) return null;
  try {
    const parsed: unknown = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The `exp` claim of a JWT, in milliseconds since the epoch; null when unreadable. */
export function tokenExpiry(token: string | null): number | null {
  const exp = claims(token)?.exp;
  return typeof exp === 'number' ? exp * 1000 : null;
}

/** Who a token acts as: its user and tenant (`sub`, `tid`); null when unreadable. */
export function tokenIdentity(token: string | null): string | null {
  const c = claims(token);
  return c && typeof c.sub === 'string' ? `${c.sub}/${typeof c.tid === 'string' ? c.tid : ''}` : null;
}

/** Whether the token expires within `marginMs` (or cannot be read). */
export function expiresSoon(token: string | null, now = Date.now(), marginMs = 60_000): boolean {
  const exp = tokenExpiry(token);
  return exp === null || exp - now < marginMs;
}
