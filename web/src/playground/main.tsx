// GraphiQL at /playground, fully self-hosted (the server's CSP allows no other origin).
// Queries and mutations: POST /graphql (same origin, JSON). Subscriptions: WebSocket at
// /graphql with the graphql-transport-ws protocol (graphql-ws client, loaded on demand).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/graphiql.css';
import './playground.css';
import { getToken } from '../graphql/session';

const wsProtocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';

const fetcher = createGraphiQLFetcher({
  url: '/graphql',
  subscriptionUrl: `${wsProtocol}//${window.location.host}/graphql`,
  // Plain JSON responses (no multipart/incremental delivery).
  enableIncrementalDelivery: false,
  headers: { Accept: 'application/graphql-response+json, application/json' },
});

const token = getToken();
// The app's session, if any, goes into the headers editor (never persisted to localStorage).
// Over WebSocket the same headers are sent as the connection_init payload.
const defaultHeaders = token ? JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2) : undefined;

const defaultQuery = `# Welcome to the tenantgate GraphQL playground.
#
# Run with Ctrl-Enter (Cmd-Enter on a Mac).
# The book icon on the left opens the schema docs.
${
  token
    ? '# Your session is in the Headers tab below.'
    : '# Sign up at / first to run operations as yourself.'
}

query Viewer {
  viewer {
    user { id email }
    tenant { id name slug }
    role
  }
}
`;

function Playground() {
  return (
    <GraphiQL
      fetcher={fetcher}
      defaultQuery={defaultQuery}
      defaultHeaders={defaultHeaders}
      defaultEditorToolsVisibility={token ? 'headers' : false}
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

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <Playground />
  </StrictMode>,
);
