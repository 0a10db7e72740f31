// graphql-codegen: operation types and typed documents from ../schema.graphql (the
// server's checked-in schema) for every `graphql(...)` call under src/, plus the
// persisted-documents manifest (sha256 of each document -> its text) that the server
// loads to accept document ids instead of text (trusted documents).
//
// `npm run codegen` writes src/gql/; `npm run codegen:check` fails when src/gql/ is not
// what the schema and the operations give (drift), or when an operation does not
// validate against the schema.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*', '!src/playground/**/*'],
  ignoreNoDocuments: false,
  generates: {
    './src/gql/': {
      preset: 'client',
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
