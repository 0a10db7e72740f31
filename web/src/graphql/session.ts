// Where the access token lives: in memory, mirrored to sessionStorage so that a reload of
// the tab keeps the user signed in (and the playground at /playground can send it too).
// sessionStorage is per tab and is cleared when the tab closes.

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
