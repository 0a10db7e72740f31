// The signed-in state of this tab: the access token, a GraphQL client whose cache belongs
// to that identity (a new one on every sign-in, sign-out or tenant switch), and the actions
// that change it. Other tabs hear about sign-out and tenant switches over a
// BroadcastChannel and follow.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Provider as UrqlProvider, type Client } from 'urql';
import { LogOutDocument, SwitchTenantDocument } from '../../graphql/auth-documents';
import { makeClient } from '../../graphql/client';
import { onIdentityChange, refreshAccessToken } from '../../graphql/refresh';
import { clearToken, getToken, setToken } from '../../graphql/session';

type Status = 'booting' | 'signedOut' | 'signedIn';

interface Auth {
  status: Status;
  /** Why the user was signed out (shown on the sign-in page). */
  notice: string | null;
  /** Stores a new access token (sign-in, sign-up, magic link, invitation) and starts fresh. */
  signedIn: (accessToken: string) => void;
  signOut: (notice?: string) => Promise<void>;
  switchTenant: (tenantId: string) => Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);
const CHANNEL = 'tenantgate.auth';

type Message = { kind: 'signed-out' } | { kind: 'switched' } | { kind: 'signed-in' };

export function AuthProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Status>(() => (getToken() ? 'signedIn' : 'booting'));
  const [notice, setNotice] = useState<string | null>(null);
  const [epoch, setEpoch] = useState(0);
  const channel = useRef<BroadcastChannel | null>(null);

  const endLocally = useCallback((why: string | null) => {
    clearToken();
    setNotice(why);
    setStatus('signedOut');
    setEpoch((e) => e + 1);
  }, []);

  const client: Client = useMemo(
    () => makeClient(() => endLocally('Your session has ended. Sign in again.')),
    // A new client (and cache) per identity.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [epoch],
  );

  // A tab without a token (new tab, or after a reload that lost it) asks the cookie.
  useEffect(() => {
    if (status !== 'booting') return;
    let live = true;
    void refreshAccessToken().then((ok) => {
      if (!live) return;
      setStatus(ok ? 'signedIn' : 'signedOut');
      setEpoch((e) => e + 1);
    });
    return () => {
      live = false;
    };
  }, [status]);

  useEffect(() => {
    if (typeof BroadcastChannel === 'undefined') return;
    const ch = new BroadcastChannel(CHANNEL);
    channel.current = ch;
    ch.onmessage = (event: MessageEvent<Message>) => {
      if (event.data?.kind === 'signed-out') endLocally('You signed out in another tab.');
      if (event.data?.kind === 'switched' || event.data?.kind === 'signed-in') {
        void refreshAccessToken().then((ok) => {
          if (ok) {
            setStatus('signedIn');
            setEpoch((e) => e + 1);
          } else endLocally('Your session has ended. Sign in again.');
        });
      }
    };
    return () => ch.close();
  }, [endLocally]);

  // A refresh that comes back as someone else: a new client, so no cache of the old one.
  useEffect(() => onIdentityChange(() => setEpoch((e) => e + 1)), []);

  const signedIn = useCallback((accessToken: string) => {
    setToken(accessToken);
    // The refresh cookie now belongs to this sign-in: the other tabs follow it.
    channel.current?.postMessage({ kind: 'signed-in' } satisfies Message);
    setNotice(null);
    setStatus('signedIn');
    setEpoch((e) => e + 1);
  }, []);

  const signOut = useCallback(
    async (why?: string) => {
      // Ends the session on the server (and clears the refresh cookie); signed out here
      // whatever the answer.
      await client.mutation(LogOutDocument, {}).toPromise().catch(() => undefined);
      channel.current?.postMessage({ kind: 'signed-out' } satisfies Message);
      endLocally(why ?? null);
    },
    [client, endLocally],
  );

  const switchTenant = useCallback(
    async (tenantId: string) => {
      const result = await client.mutation(SwitchTenantDocument, { tenantId }).toPromise();
      if (result.error) throw result.error;
      if (!result.data) return;
      setToken(result.data.switchTenant.accessToken);
      channel.current?.postMessage({ kind: 'switched' } satisfies Message);
      setEpoch((e) => e + 1);
    },
    [client],
  );

  const value = useMemo(
    () => ({ status, notice, signedIn, signOut, switchTenant }),
    [status, notice, signedIn, signOut, switchTenant],
  );
  return (
    <AuthContext.Provider value={value}>
      <UrqlProvider value={client}>{children}</UrqlProvider>
    </AuthContext.Provider>
  );
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside AuthProvider');
  return auth;
}
