// graphql-codegen: operation types and typed documents from ../schema.graphql (the
// server's checked-in schema) for every `graphql(...)` call under src/, plus the
// persisted-documents manifest (sha256 of each document -> its text) that the server
// loads to accept document ids instead of text (trusted documents).
//
// `npm run codegen` writes src/gql/; `npm run codegen:check` fails when src/gql/ is not
// what the schema and the operations give (drift), or when an operation does not
// validate against the schema.
import type { CodegenConfig } from '@graphql-codegen/cli';
import { Kind, visit, type ASTNode, type SelectionSetNode } from 'graphql';

/**
 * Adds `__typename` to every selection set but the operation's root, exactly as urql's
 * normalised cache does to a document before sending it: with document ids the server
 * runs the manifest's text, so that text must be what urql would have sent. (The
 * preset's own addTypenameSelectionDocumentTransform adds it at the root too, which
 * gives a failed mutation a non-null `data` and differs from urql.)
 */
const addTypenameLikeUrql = {
  transform: ({ documents }: { documents: Array<{ document?: ASTNode }> }) =>
    documents.map((file) => ({
      ...file,
      document:
        file.document &&
        visit(file.document, {
          SelectionSet: {
            leave(node: SelectionSetNode, _key, parent) {
              const isRoot = parent && !Array.isArray(parent) && (parent as ASTNode).kind === Kind.OPERATION_DEFINITION;
              const has = node.selections.some((s) => s.kind === Kind.FIELD && s.name.value === '__typename' && !s.alias);
              if (isRoot || has) return undefined;
              return {
                ...node,
                selections: [...node.selections, { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } }],
              };
            },
          },
        }),
    })),
};

const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*', '!src/playground/**/*'],
  ignoreNoDocuments: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      documentTransforms: [addTypenameLikeUrql],
      presetConfig: {
        fragmentMasking: false,
        persistedDocuments: { mode: 'embedHashInDocument', hashPropertyName: 'hash', hashAlgorithm: 'sha256' },
      },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        skipTypename: false,
        avoidOptionals: { field: true, inputValue: false, object: false },
        defaultScalarType: 'unknown',
        scalars: {
          DateTime: 'string',
          EventTime: 'string',
          EventQuantity: 'number',
          JSON: 'unknown',
        },
      },
    },
  },
};

export default config;
