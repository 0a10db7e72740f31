// Keeping the access token fresh. The refresh token is an HttpOnly cookie (path /graphql)
// shared by every tab; each use rotates it and a reused one ends the session (reuse
// detection), so refreshes are serialised across tabs with the Web Locks API: a second
// tab waits, then refreshes with the cookie the first one left.
import { Client, fetchExchange } from '@urql/core';
import { RefreshSessionDocument } from './auth-documents';
import { documentExchanges } from './documents';
import { clearToken, expiresSoon, getToken, setToken, tokenIdentity } from './session';

const LOCK = 'tenantgate.refresh';

/** Anonymous client for the refresh call itself (no bearer token, cookie only). */
const bare = new Client({
  url: '/graphql',
  exchanges: [...documentExchanges(), fetchExchange],
  fetchOptions: { credentials: 'same-origin' },
  requestPolicy: 'network-only',
  preferGetMethod: false,
});

let inFlight: Promise<boolean> | null = null;

const identityListeners = new Set<() => void>();

/**
 * Called when a refresh brings a token of another user or tenant than the tab had (the
 * cookie is shared by the tabs: another tab signed in as someone else, or switched): the
 * tab must drop everything it read as the old identity.
 */
export function onIdentityChange(listener: () => void): () => void {
  identityListeners.add(listener);
  return () => identityListeners.delete(listener);
}

async function refreshOnce(): Promise<boolean> {
  const before = getToken();
  const result = await bare.mutation(RefreshSessionDocument, {}).toPromise();
  const token = result.data?.refreshSession.accessToken;
  if (token) {
    setToken(token);
    if (before && tokenIdentity(before) !== tokenIdentity(token)) identityListeners.forEach((l) => l());
    return true;
  }
  const code = result.error?.graphQLErrors[0]?.extensions?.code;
  // Only a definite "no" ends the tab's session; a network failure keeps what it has.
  if (code === 'UNAUTHENTICATED' && getToken() === before) clearToken();
  return false;
}

/**
 * Gets a new access token from the refresh cookie. Resolves true when the tab has a
 * token afterwards. Concurrent callers in this tab share one refresh; other tabs wait
 * for the lock.
 */
export function refreshAccessToken(opts: { onlyIfExpiring?: boolean } = {}): Promise<boolean> {
  if (inFlight) return inFlight;
  const run = async (): Promise<boolean> => {
    // Another caller may have refreshed while this one waited for the lock.
    if (opts.onlyIfExpiring && !expiresSoon(getToken())) return true;
    return refreshOnce();
  };
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  const started: Promise<boolean> = (locks ? (locks.request(LOCK, run) as unknown as Promise<boolean>) : run()).finally(() => {
    inFlight = null;
  });
  inFlight = started;
  return started;
}
