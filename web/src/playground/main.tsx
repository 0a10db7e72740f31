// GraphiQL at /playground, fully self-hosted (the server's CSP allows no other origin).
// Queries and mutations: POST /graphql (same origin, JSON). Subscriptions: WebSocket at
// /graphql with the graphql-transport-ws protocol (graphql-ws client, loaded on demand).
//
// - The app's session (sessionStorage "tenantgate.accessToken") goes into every tab's
//   headers as {"Authorization": "Bearer …"} (refreshed first from the HttpOnly cookie when
//   it is about to expire); headers are never written to localStorage.
// - `?example=<page>` (team, keys, billing, usage, settings, audit, admin) opens tabs with
//   that page's example operations ("Open in playground" in the app links here).
// - With `--trusted-documents on`, a platform admin uses it as is; anyone else pastes an API
//   key into the headers instead of the session (see the README).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/graphiql.css';
import './playground.css';
import { expiresSoon, getToken } from '../graphql/session';
import { refreshAccessToken } from '../graphql/refresh';
import { examplePage, examplesFor } from './examples';
import { repairAccessibility } from './a11y';
import { tabStorage } from './storage';

const wsProtocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';

const fetcher = createGraphiQLFetcher({
  url: '/graphql',
  subscriptionUrl: `${wsProtocol}//${window.location.host}/graphql`,
  // Plain JSON responses (no multipart/incremental delivery).
  enableIncrementalDelivery: false,
  headers: { Accept: 'application/graphql-response+json, application/json' },
});

const WELCOME_SIGNED_IN = '# Your session is in the Headers tab below.';
const WELCOME_ANONYMOUS = '# Sign in at / first to run operations as yourself, or put an API key in the Headers tab.';

function welcome(signedIn: boolean): string {
  return `# Welcome to the tenantgate GraphQL playground.
#
# Run with Ctrl-Enter (Cmd-Enter on a Mac).
# The book icon on the left opens the schema docs.
${signedIn ? WELCOME_SIGNED_IN : WELCOME_ANONYMOUS}

query Viewer {
  viewer {
    user { id email }
    tenant { id name slug }
    role
  }
}
`;
}

/** The session's token, refreshed first when it is about to expire (null: signed out). */
async function sessionToken(): Promise<string | null> {
  const token = getToken();
  if (token && expiresSoon(token)) {
    await refreshAccessToken({ onlyIfExpiring: true }).catch(() => false);
  }
  return getToken();
}

interface Setup {
  headers: string | undefined;
  /** The first tab's variables (GraphiQL starts its variables editor empty otherwise). */
  variables: string | undefined;
  tabs: Array<{ query: string; variables?: string | null; headers?: string | null }>;
  storage: ReturnType<typeof tabStorage>;
  tools: 'variables' | 'headers' | false;
}

/** Everything GraphiQL starts from, made once (GraphiQL re-reads its defaults when they change). */
function setup(token: string | null): Setup {
  const headers = token ? JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2) : undefined;
  const page = examplePage(window.location.search);
  const tabs: Setup['tabs'] = page
    ? examplesFor(page).map((example) => ({
        query: example.query,
        variables: example.variables ?? null,
        headers: headers ?? null,
      }))
    : [{ query: welcome(Boolean(token)), headers: headers ?? null }];
  return {
    headers,
    variables: page ? (tabs[0]?.variables ?? undefined) : undefined,
    tabs,
    storage: tabStorage({ headers: headers ?? null, fresh: page !== null, namespace: page ?? undefined }),
    tools: page ? 'variables' : token ? 'headers' : false,
  };
}

function Playground({ setup }: { setup: Setup }) {
  return (
    <GraphiQL
      fetcher={fetcher}
      defaultTabs={setup.tabs}
      defaultHeaders={setup.headers}
      variables={setup.variables}
      storage={setup.storage}
      defaultEditorToolsVisibility={setup.tools}
      shouldPersistHeaders={false}
      isHeadersEditorEnabled
    >
      <GraphiQL.Logo>
        <a className="playground-logo" href="/" title="Back to tenantgate">
          tenantgate
        </a>{' '}
        <span className="playground-logo__sub">GraphQL playground</span>
      </GraphiQL.Logo>
    </GraphiQL>
  );
}

const root = document.getElementById('graphiql')!;
repairAccessibility(root);
void sessionToken().then((token) => {
  const made = setup(token);
  createRoot(root).render(
    <StrictMode>
      <Playground setup={made} />
    </StrictMode>,
  );
});
