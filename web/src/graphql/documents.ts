// Trusted documents: every operation of the app is extracted at build time by
// graphql-codegen (persisted documents) into a manifest the server embeds. The app sends
// the document's sha256 instead of its text (`extensions.persistedQuery.sha256Hash`, the
// shape of @urql/exchange-persisted); the server runs its own copy of the text.
import type { Exchange } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import type { DocumentNode } from 'graphql';

/** The hash graphql-codegen embedded in a document (`embedHashInDocument`). */
export function documentHash(document: unknown): string | undefined {
  const meta = (document as { __meta__?: { hash?: unknown } } | null)?.__meta__;
  return typeof meta?.hash === 'string' ? meta.hash : undefined;
}

/** The exchanges that turn an operation's text into its document id. */
export function documentExchanges(): Exchange[] {
  return [
    persistedExchange({
      enforcePersistedQueries: true,
      enableForMutation: true,
      enableForSubscriptions: false,
      preferGetForPersistedQueries: false,
      generateHash: async (_query: string, document: DocumentNode) => {
        const hash = documentHash(document);
        if (!hash) throw new Error('an operation without a persisted-document hash (run npm run codegen)');
        return hash;
      },
    }),
  ];
}
