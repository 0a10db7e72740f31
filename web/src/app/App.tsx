import { useCallback, useEffect, useState } from 'react';
import { api } from './api';
import { ErrorNotice } from './ErrorNotice';
import { SignUpForm } from './SignUpForm';
import { ViewerPanel } from './ViewerPanel';
import { isGraphQLRequestError } from '../graphql/client';
import { VIEWER, type Viewer, type ViewerResult } from '../graphql/operations';
import { clearToken, getToken, setToken } from '../graphql/session';

type State =
  | { kind: 'signedOut'; notice?: string }
  | { kind: 'loading' }
  | { kind: 'signedIn'; viewer: Viewer }
  | { kind: 'error'; error: unknown };

export function App() {
  const [state, setState] = useState<State>(() => (getToken() ? { kind: 'loading' } : { kind: 'signedOut' }));

  const loadViewer = useCallback(async () => {
    setState({ kind: 'loading' });
    try {
      const { viewer } = await api.request<ViewerResult>(VIEWER, {}, { operationName: 'Viewer' });
      if (viewer) {
        setState({ kind: 'signedIn', viewer });
      } else {
        clearToken();
        setState({ kind: 'signedOut', notice: 'Your session has ended.' });
      }
    } catch (e) {
      if (isGraphQLRequestError(e) && e.code === 'UNAUTHENTICATED') {
        clearToken();
        setState({ kind: 'signedOut', notice: 'Your session has ended.' });
      } else {
        setState({ kind: 'error', error: e });
      }
    }
  }, []);

  useEffect(() => {
    if (getToken()) void loadViewer();
  }, [loadViewer]);

  const signOut = useCallback(() => {
    clearToken();
    setState({ kind: 'signedOut' });
  }, []);

  return (
    <div className="shell">
      <header className="topbar">
        <a className="brand" href="/" aria-label="tenantgate home">
          <svg className="brand__mark" viewBox="0 0 32 32" aria-hidden="true">
            <rect x="2" y="2" width="28" height="28" rx="8" />
            <path d="M10 11h12M16 11v11" />
          </svg>
          <span className="brand__name">tenantgate</span>
        </a>
        <nav className="topbar__nav" aria-label="Main">
          <a href="/playground">GraphQL playground</a>
        </nav>
      </header>

      <main className="main">
        <div className="intro">
          <h2 className="intro__title">The control plane for your SaaS</h2>
          <p className="intro__text">
            Workspaces, members and roles, API keys, plans and usage: one GraphQL API, with every
            tenant's data kept apart.
          </p>
          <ul className="intro__list">
            <li>Create a workspace and become its owner</li>
            <li>Invite your team and manage roles</li>
            <li>
              Explore the API in the <a href="/playground">playground</a>
            </li>
          </ul>
        </div>

        <div className="panel" aria-live="polite">
          {state.kind === 'loading' && (
            <section className="card card--loading" aria-busy="true">
              <p className="spinner" role="status">
                Loading your workspace…
              </p>
            </section>
          )}
          {state.kind === 'signedOut' && (
            <>
              {state.notice && <p className="notice notice--info">{state.notice}</p>}
              <SignUpForm
                onSignedUp={(result) => {
                  setToken(result.accessToken);
                  void loadViewer();
                }}
              />
            </>
          )}
          {state.kind === 'signedIn' && <ViewerPanel viewer={state.viewer} onSignOut={signOut} />}
          {state.kind === 'error' && (
            <section className="card">
              <h1 className="card__title">Could not load your workspace</h1>
              <ErrorNotice error={state.error} />
              <div className="actions">
                <button className="button button--primary" type="button" onClick={() => void loadViewer()}>
                  Try again
                </button>
                <button className="button button--ghost" type="button" onClick={signOut}>
                  Sign out
                </button>
              </div>
            </section>
          )}
        </div>
      </main>

      <footer className="footer">
        <span>tenantgate</span>
        <a href="/playground">API playground</a>
      </footer>
    </div>
  );
}
