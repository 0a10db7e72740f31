/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation LogIn($input: LogInInput!) {\n    logIn(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n": typeof types.LogInDocument,
    "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      accessToken\n      expiresAt\n      tenant {\n        id\n        name\n        slug\n      }\n    }\n  }\n": typeof types.SignUpDocument,
    "\n  mutation RequestMagicLink($email: String!) {\n    requestMagicLink(email: $email)\n  }\n": typeof types.RequestMagicLinkDocument,
    "\n  mutation VerifyMagicLink($token: String!) {\n    verifyMagicLink(token: $token) {\n      accessToken\n      expiresAt\n    }\n  }\n": typeof types.VerifyMagicLinkDocument,
    "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n": typeof types.RequestPasswordResetDocument,
    "\n  mutation ResetPassword($token: String!, $newPassword: String!) {\n    resetPassword(token: $token, newPassword: $newPassword) {\n      accessToken\n      expiresAt\n    }\n  }\n": typeof types.ResetPasswordDocument,
    "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      id\n      email\n      emailVerified\n    }\n  }\n": typeof types.VerifyEmailDocument,
    "\n  mutation AcceptInvitation($input: AcceptInvitationInput!) {\n    acceptInvitation(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n": typeof types.AcceptInvitationDocument,
    "\n  query Viewer {\n    viewer {\n      user {\n        id\n        email\n        emailVerified\n      }\n      role\n      isPlatformAdmin\n      tenant {\n        id\n        name\n        slug\n        status\n        statusReason\n        planKey\n        branding {\n          displayName\n          logoUrl\n          primaryColor\n          accentColor\n          supportEmail\n        }\n      }\n      memberships {\n        role\n        tenant {\n          id\n          name\n          slug\n          status\n        }\n      }\n    }\n  }\n": typeof types.ViewerDocument,
    "\n  query Overview {\n    viewer {\n      role\n    }\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n      }\n      quotas {\n        metric\n        used\n        limit\n        percent\n        resetsAt\n      }\n    }\n  }\n": typeof types.OverviewDocument,
    "\n  fragment AuditEntryFields on AuditEntry {\n    id\n    action\n    actorType\n    actorId\n    actorLabel\n    targetType\n    targetId\n    ip\n    userAgent\n    requestId\n    before\n    after\n    createdAt\n  }\n": typeof types.AuditEntryFieldsFragmentDoc,
    "\n  query AuditLog($first: Int!, $after: String, $filter: AuditLogFilter) {\n    tenant {\n      id\n      auditLog(first: $first, after: $after, filter: $filter) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          ...AuditEntryFields\n        }\n      }\n    }\n  }\n": typeof types.AuditLogDocument,
    "\n  query AuditActors {\n    tenant {\n      id\n      members(first: 100) {\n        nodes {\n          user {\n            id\n            email\n          }\n        }\n      }\n      apiKeys(first: 100) {\n        nodes {\n          id\n          name\n          displayPrefix\n        }\n      }\n    }\n  }\n": typeof types.AuditActorsDocument,
    "\n  subscription AuditEvents {\n    auditEvents {\n      ...AuditEntryFields\n    }\n  }\n": typeof types.AuditEventsDocument,
    "\n  fragment ApiKeyFields on ApiKey {\n    id\n    name\n    environment\n    displayPrefix\n    scopes\n    state\n    rateLimit {\n      limit\n      periodSeconds\n    }\n    expiresAt\n    revokedAt\n    rotationEndsAt\n    lastUsedAt\n    createdById\n    createdAt\n  }\n": typeof types.ApiKeyFieldsFragmentDoc,
    "\n  query ApiKeys($first: Int!, $after: String, $filter: ApiKeyFilter) {\n    tenant {\n      id\n      apiKeys(first: $first, after: $after, filter: $filter) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          ...ApiKeyFields\n        }\n      }\n    }\n  }\n": typeof types.ApiKeysDocument,
    "\n  query KeyCreators {\n    tenant {\n      id\n      members(first: 100) {\n        pageInfo {\n          hasNextPage\n        }\n        nodes {\n          user {\n            id\n            email\n          }\n        }\n      }\n    }\n  }\n": typeof types.KeyCreatorsDocument,
    "\n  query ApiKey($id: ID!, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {\n    tenant {\n      id\n      apiKey(id: $id) {\n        ...ApiKeyFields\n        usage(metric: \"api_calls\", from: $from, to: $to, granularity: $granularity) {\n          granularity\n          environment\n          total\n          points {\n            at\n            value\n          }\n        }\n      }\n    }\n  }\n": typeof types.ApiKeyDocument,
    "\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) {\n      secret\n      apiKey {\n        ...ApiKeyFields\n      }\n    }\n  }\n": typeof types.CreateApiKeyDocument,
    "\n  mutation RotateApiKey($id: ID!, $gracePeriodSeconds: Int!) {\n    rotateApiKey(id: $id, gracePeriodSeconds: $gracePeriodSeconds) {\n      secret\n      apiKey {\n        ...ApiKeyFields\n      }\n    }\n  }\n": typeof types.RotateApiKeyDocument,
    "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      ...ApiKeyFields\n    }\n  }\n": typeof types.RevokeApiKeyDocument,
    "\n  mutation RefreshSession {\n    refreshSession {\n      accessToken\n      expiresAt\n      tenantId\n    }\n  }\n": typeof types.RefreshSessionDocument,
    "\n  mutation LogOut {\n    logOut\n  }\n": typeof types.LogOutDocument,
    "\n  mutation SwitchTenant($tenantId: ID!) {\n    switchTenant(tenantId: $tenantId) {\n      accessToken\n      expiresAt\n    }\n  }\n": typeof types.SwitchTenantDocument,
};
const documents: Documents = {
    "\n  mutation LogIn($input: LogInInput!) {\n    logIn(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n": types.LogInDocument,
    "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      accessToken\n      expiresAt\n      tenant {\n        id\n        name\n        slug\n      }\n    }\n  }\n": types.SignUpDocument,
    "\n  mutation RequestMagicLink($email: String!) {\n    requestMagicLink(email: $email)\n  }\n": types.RequestMagicLinkDocument,
    "\n  mutation VerifyMagicLink($token: String!) {\n    verifyMagicLink(token: $token) {\n      accessToken\n      expiresAt\n    }\n  }\n": types.VerifyMagicLinkDocument,
    "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n": types.RequestPasswordResetDocument,
    "\n  mutation ResetPassword($token: String!, $newPassword: String!) {\n    resetPassword(token: $token, newPassword: $newPassword) {\n      accessToken\n      expiresAt\n    }\n  }\n": types.ResetPasswordDocument,
    "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      id\n      email\n      emailVerified\n    }\n  }\n": types.VerifyEmailDocument,
    "\n  mutation AcceptInvitation($input: AcceptInvitationInput!) {\n    acceptInvitation(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n": types.AcceptInvitationDocument,
    "\n  query Viewer {\n    viewer {\n      user {\n        id\n        email\n        emailVerified\n      }\n      role\n      isPlatformAdmin\n      tenant {\n        id\n        name\n        slug\n        status\n        statusReason\n        planKey\n        branding {\n          displayName\n          logoUrl\n          primaryColor\n          accentColor\n          supportEmail\n        }\n      }\n      memberships {\n        role\n        tenant {\n          id\n          name\n          slug\n          status\n        }\n      }\n    }\n  }\n": types.ViewerDocument,
    "\n  query Overview {\n    viewer {\n      role\n    }\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n      }\n      quotas {\n        metric\n        used\n        limit\n        percent\n        resetsAt\n      }\n    }\n  }\n": types.OverviewDocument,
    "\n  fragment AuditEntryFields on AuditEntry {\n    id\n    action\n    actorType\n    actorId\n    actorLabel\n    targetType\n    targetId\n    ip\n    userAgent\n    requestId\n    before\n    after\n    createdAt\n  }\n": types.AuditEntryFieldsFragmentDoc,
    "\n  query AuditLog($first: Int!, $after: String, $filter: AuditLogFilter) {\n    tenant {\n      id\n      auditLog(first: $first, after: $after, filter: $filter) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          ...AuditEntryFields\n        }\n      }\n    }\n  }\n": types.AuditLogDocument,
    "\n  query AuditActors {\n    tenant {\n      id\n      members(first: 100) {\n        nodes {\n          user {\n            id\n            email\n          }\n        }\n      }\n      apiKeys(first: 100) {\n        nodes {\n          id\n          name\n          displayPrefix\n        }\n      }\n    }\n  }\n": types.AuditActorsDocument,
    "\n  subscription AuditEvents {\n    auditEvents {\n      ...AuditEntryFields\n    }\n  }\n": types.AuditEventsDocument,
    "\n  fragment ApiKeyFields on ApiKey {\n    id\n    name\n    environment\n    displayPrefix\n    scopes\n    state\n    rateLimit {\n      limit\n      periodSeconds\n    }\n    expiresAt\n    revokedAt\n    rotationEndsAt\n    lastUsedAt\n    createdById\n    createdAt\n  }\n": types.ApiKeyFieldsFragmentDoc,
    "\n  query ApiKeys($first: Int!, $after: String, $filter: ApiKeyFilter) {\n    tenant {\n      id\n      apiKeys(first: $first, after: $after, filter: $filter) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          ...ApiKeyFields\n        }\n      }\n    }\n  }\n": types.ApiKeysDocument,
    "\n  query KeyCreators {\n    tenant {\n      id\n      members(first: 100) {\n        pageInfo {\n          hasNextPage\n        }\n        nodes {\n          user {\n            id\n            email\n          }\n        }\n      }\n    }\n  }\n": types.KeyCreatorsDocument,
    "\n  query ApiKey($id: ID!, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {\n    tenant {\n      id\n      apiKey(id: $id) {\n        ...ApiKeyFields\n        usage(metric: \"api_calls\", from: $from, to: $to, granularity: $granularity) {\n          granularity\n          environment\n          total\n          points {\n            at\n            value\n          }\n        }\n      }\n    }\n  }\n": types.ApiKeyDocument,
    "\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) {\n      secret\n      apiKey {\n        ...ApiKeyFields\n      }\n    }\n  }\n": types.CreateApiKeyDocument,
    "\n  mutation RotateApiKey($id: ID!, $gracePeriodSeconds: Int!) {\n    rotateApiKey(id: $id, gracePeriodSeconds: $gracePeriodSeconds) {\n      secret\n      apiKey {\n        ...ApiKeyFields\n      }\n    }\n  }\n": types.RotateApiKeyDocument,
    "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      ...ApiKeyFields\n    }\n  }\n": types.RevokeApiKeyDocument,
    "\n  mutation RefreshSession {\n    refreshSession {\n      accessToken\n      expiresAt\n      tenantId\n    }\n  }\n": types.RefreshSessionDocument,
    "\n  mutation LogOut {\n    logOut\n  }\n": types.LogOutDocument,
    "\n  mutation SwitchTenant($tenantId: ID!) {\n    switchTenant(tenantId: $tenantId) {\n      accessToken\n      expiresAt\n    }\n  }\n": types.SwitchTenantDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LogIn($input: LogInInput!) {\n    logIn(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation LogIn($input: LogInInput!) {\n    logIn(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      accessToken\n      expiresAt\n      tenant {\n        id\n        name\n        slug\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      accessToken\n      expiresAt\n      tenant {\n        id\n        name\n        slug\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestMagicLink($email: String!) {\n    requestMagicLink(email: $email)\n  }\n"): (typeof documents)["\n  mutation RequestMagicLink($email: String!) {\n    requestMagicLink(email: $email)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VerifyMagicLink($token: String!) {\n    verifyMagicLink(token: $token) {\n      accessToken\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation VerifyMagicLink($token: String!) {\n    verifyMagicLink(token: $token) {\n      accessToken\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n"): (typeof documents)["\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResetPassword($token: String!, $newPassword: String!) {\n    resetPassword(token: $token, newPassword: $newPassword) {\n      accessToken\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation ResetPassword($token: String!, $newPassword: String!) {\n    resetPassword(token: $token, newPassword: $newPassword) {\n      accessToken\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      id\n      email\n      emailVerified\n    }\n  }\n"): (typeof documents)["\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      id\n      email\n      emailVerified\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AcceptInvitation($input: AcceptInvitationInput!) {\n    acceptInvitation(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation AcceptInvitation($input: AcceptInvitationInput!) {\n    acceptInvitation(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    viewer {\n      user {\n        id\n        email\n        emailVerified\n      }\n      role\n      isPlatformAdmin\n      tenant {\n        id\n        name\n        slug\n        status\n        statusReason\n        planKey\n        branding {\n          displayName\n          logoUrl\n          primaryColor\n          accentColor\n          supportEmail\n        }\n      }\n      memberships {\n        role\n        tenant {\n          id\n          name\n          slug\n          status\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Viewer {\n    viewer {\n      user {\n        id\n        email\n        emailVerified\n      }\n      role\n      isPlatformAdmin\n      tenant {\n        id\n        name\n        slug\n        status\n        statusReason\n        planKey\n        branding {\n          displayName\n          logoUrl\n          primaryColor\n          accentColor\n          supportEmail\n        }\n      }\n      memberships {\n        role\n        tenant {\n          id\n          name\n          slug\n          status\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Overview {\n    viewer {\n      role\n    }\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n      }\n      quotas {\n        metric\n        used\n        limit\n        percent\n        resetsAt\n      }\n    }\n  }\n"): (typeof documents)["\n  query Overview {\n    viewer {\n      role\n    }\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n      }\n      quotas {\n        metric\n        used\n        limit\n        percent\n        resetsAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AuditEntryFields on AuditEntry {\n    id\n    action\n    actorType\n    actorId\n    actorLabel\n    targetType\n    targetId\n    ip\n    userAgent\n    requestId\n    before\n    after\n    createdAt\n  }\n"): (typeof documents)["\n  fragment AuditEntryFields on AuditEntry {\n    id\n    action\n    actorType\n    actorId\n    actorLabel\n    targetType\n    targetId\n    ip\n    userAgent\n    requestId\n    before\n    after\n    createdAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuditLog($first: Int!, $after: String, $filter: AuditLogFilter) {\n    tenant {\n      id\n      auditLog(first: $first, after: $after, filter: $filter) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          ...AuditEntryFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AuditLog($first: Int!, $after: String, $filter: AuditLogFilter) {\n    tenant {\n      id\n      auditLog(first: $first, after: $after, filter: $filter) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          ...AuditEntryFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuditActors {\n    tenant {\n      id\n      members(first: 100) {\n        nodes {\n          user {\n            id\n            email\n          }\n        }\n      }\n      apiKeys(first: 100) {\n        nodes {\n          id\n          name\n          displayPrefix\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AuditActors {\n    tenant {\n      id\n      members(first: 100) {\n        nodes {\n          user {\n            id\n            email\n          }\n        }\n      }\n      apiKeys(first: 100) {\n        nodes {\n          id\n          name\n          displayPrefix\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription AuditEvents {\n    auditEvents {\n      ...AuditEntryFields\n    }\n  }\n"): (typeof documents)["\n  subscription AuditEvents {\n    auditEvents {\n      ...AuditEntryFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ApiKeyFields on ApiKey {\n    id\n    name\n    environment\n    displayPrefix\n    scopes\n    state\n    rateLimit {\n      limit\n      periodSeconds\n    }\n    expiresAt\n    revokedAt\n    rotationEndsAt\n    lastUsedAt\n    createdById\n    createdAt\n  }\n"): (typeof documents)["\n  fragment ApiKeyFields on ApiKey {\n    id\n    name\n    environment\n    displayPrefix\n    scopes\n    state\n    rateLimit {\n      limit\n      periodSeconds\n    }\n    expiresAt\n    revokedAt\n    rotationEndsAt\n    lastUsedAt\n    createdById\n    createdAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ApiKeys($first: Int!, $after: String, $filter: ApiKeyFilter) {\n    tenant {\n      id\n      apiKeys(first: $first, after: $after, filter: $filter) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          ...ApiKeyFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ApiKeys($first: Int!, $after: String, $filter: ApiKeyFilter) {\n    tenant {\n      id\n      apiKeys(first: $first, after: $after, filter: $filter) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          ...ApiKeyFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query KeyCreators {\n    tenant {\n      id\n      members(first: 100) {\n        pageInfo {\n          hasNextPage\n        }\n        nodes {\n          user {\n            id\n            email\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query KeyCreators {\n    tenant {\n      id\n      members(first: 100) {\n        pageInfo {\n          hasNextPage\n        }\n        nodes {\n          user {\n            id\n            email\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ApiKey($id: ID!, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {\n    tenant {\n      id\n      apiKey(id: $id) {\n        ...ApiKeyFields\n        usage(metric: \"api_calls\", from: $from, to: $to, granularity: $granularity) {\n          granularity\n          environment\n          total\n          points {\n            at\n            value\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ApiKey($id: ID!, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {\n    tenant {\n      id\n      apiKey(id: $id) {\n        ...ApiKeyFields\n        usage(metric: \"api_calls\", from: $from, to: $to, granularity: $granularity) {\n          granularity\n          environment\n          total\n          points {\n            at\n            value\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) {\n      secret\n      apiKey {\n        ...ApiKeyFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) {\n      secret\n      apiKey {\n        ...ApiKeyFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RotateApiKey($id: ID!, $gracePeriodSeconds: Int!) {\n    rotateApiKey(id: $id, gracePeriodSeconds: $gracePeriodSeconds) {\n      secret\n      apiKey {\n        ...ApiKeyFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation RotateApiKey($id: ID!, $gracePeriodSeconds: Int!) {\n    rotateApiKey(id: $id, gracePeriodSeconds: $gracePeriodSeconds) {\n      secret\n      apiKey {\n        ...ApiKeyFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      ...ApiKeyFields\n    }\n  }\n"): (typeof documents)["\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      ...ApiKeyFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RefreshSession {\n    refreshSession {\n      accessToken\n      expiresAt\n      tenantId\n    }\n  }\n"): (typeof documents)["\n  mutation RefreshSession {\n    refreshSession {\n      accessToken\n      expiresAt\n      tenantId\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LogOut {\n    logOut\n  }\n"): (typeof documents)["\n  mutation LogOut {\n    logOut\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SwitchTenant($tenantId: ID!) {\n    switchTenant(tenantId: $tenantId) {\n      accessToken\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation SwitchTenant($tenantId: ID!) {\n    switchTenant(tenantId: $tenantId) {\n      accessToken\n      expiresAt\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;