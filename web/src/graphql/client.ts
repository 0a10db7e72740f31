// The app's GraphQL client: urql with a normalised cache (graphcache), the bearer token
// added to every operation and refreshed from the HttpOnly cookie before it expires or
// when the server says UNAUTHENTICATED, document ids instead of text (trusted documents),
// and subscriptions over graphql-ws (graphql-transport-ws) at the same /graphql path.
import { Client, fetchExchange, subscriptionExchange, type Operation } from '@urql/core';
import { authExchange } from '@urql/exchange-auth';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { appCache } from './cache';
import { documentExchanges, documentHash } from './documents';
import { refreshAccessToken } from './refresh';
import { socketEvents } from './socketStatus';
import { expiresSoon, getToken } from './session';

function sentToken(operation: Operation): boolean {
  const options = operation.context.fetchOptions;
  const headers = (typeof options === 'function' ? options() : options)?.headers as Record<string, string> | undefined;
  return Boolean(headers?.Authorization);
}

function wsUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss:' : 'ws:'}//${host}/graphql`;
}

/** The WebSocket for subscriptions: opened on the first subscription, closed when idle. */
function socket(): WsClient {
  return createWsClient({
    url: wsUrl(),
    lazy: true,
    lazyCloseTimeout: 3_000,
    retryAttempts: 8,
    shouldRetry: () => true,
    on: socketEvents,
    connectionParams: async () => {
      if (getToken() && expiresSoon(getToken())) await refreshAccessToken({ onlyIfExpiring: true });
      const token = getToken();
      return token ? { Authorization: `Bearer ${token}` } : {};
    },
  });
}

/** A new client with an empty cache (made again whenever the identity changes). */
export function makeClient(onSignedOut: () => void): Client {
  const ws = socket();
  return new Client({
    url: '/graphql',
    fetchOptions: { credentials: 'same-origin', headers: { Accept: 'application/graphql-response+json, application/json' } },
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    exchanges: [
      appCache(),
      authExchange(async (utils) => ({
        addAuthToOperation(operation) {
          const token = getToken();
          return token ? utils.appendHeaders(operation, { Authorization: `Bearer ${token}` }) : operation;
        },
        willAuthError() {
          const token = getToken();
          return token !== null && expiresSoon(token);
        },
        didAuthError(error, operation) {
          return sentToken(operation) && error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
        },
        async refreshAuth() {
          const ok = await refreshAccessToken();
          if (!ok && !getToken()) onSignedOut();
        },
      })),
      ...documentExchanges(),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request, operation) {
          const hash = documentHash(operation.query);
          const payload = hash
            ? {
                query: '',
                variables: request.variables as Record<string, unknown>,
                extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
              }
            : { query: request.query ?? '', variables: request.variables as Record<string, unknown> };
          return {
            subscribe(sink) {
              const dispose = ws.subscribe(payload, sink);
              return { unsubscribe: dispose };
            },
          };
        },
      }),
    ],
  });
}
