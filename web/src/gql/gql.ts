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
    "\n  mutation RequestEmailVerification {\n    requestEmailVerification\n  }\n": typeof types.RequestEmailVerificationDocument,
    "\n  query Overview {\n    viewer {\n      role\n    }\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n      }\n      quotas {\n        metric\n        used\n        limit\n        percent\n        resetsAt\n      }\n    }\n  }\n": typeof types.OverviewDocument,
    "\n  query TenantSettings {\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n        features {\n          customBranding\n        }\n      }\n      branding {\n        displayName\n        logoUrl\n        primaryColor\n        accentColor\n        supportEmail\n      }\n    }\n  }\n": typeof types.TenantSettingsDocument,
    "\n  mutation UpdateTenant($input: UpdateTenantInput!) {\n    updateTenant(input: $input) {\n      id\n      name\n      slug\n      branding {\n        displayName\n        logoUrl\n        primaryColor\n        accentColor\n        supportEmail\n      }\n    }\n  }\n": typeof types.UpdateTenantDocument,
    "\n  query TeamMembers($first: Int!, $after: String) {\n    tenant {\n      id\n      name\n      memberCount\n      members(first: $first, after: $after) {\n        nodes {\n          role\n          joinedAt\n          user {\n            id\n            email\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.TeamMembersDocument,
    "\n  query TeamInvitations($first: Int!, $after: String) {\n    tenant {\n      id\n      invitations(first: $first, after: $after) {\n        nodes {\n          id\n          email\n          role\n          status\n          createdAt\n          expiresAt\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.TeamInvitationsDocument,
    "\n  mutation InviteMember($input: InviteMemberInput!) {\n    inviteMember(input: $input) {\n      id\n      email\n      role\n      status\n      expiresAt\n    }\n  }\n": typeof types.InviteMemberDocument,
    "\n  mutation ResendInvitation($id: ID!) {\n    resendInvitation(id: $id) {\n      id\n      email\n      status\n      expiresAt\n    }\n  }\n": typeof types.ResendInvitationDocument,
    "\n  mutation RevokeInvitation($id: ID!) {\n    revokeInvitation(id: $id) {\n      id\n      status\n    }\n  }\n": typeof types.RevokeInvitationDocument,
    "\n  mutation UpdateMemberRole($userId: ID!, $role: Role!) {\n    updateMemberRole(userId: $userId, role: $role) {\n      role\n      user {\n        id\n        email\n      }\n    }\n  }\n": typeof types.UpdateMemberRoleDocument,
    "\n  mutation RemoveMember($userId: ID!) {\n    removeMember(userId: $userId)\n  }\n": typeof types.RemoveMemberDocument,
    "\n  mutation LeaveTenant {\n    leaveTenant\n  }\n": typeof types.LeaveTenantDocument,
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
    "\n  mutation RequestEmailVerification {\n    requestEmailVerification\n  }\n": types.RequestEmailVerificationDocument,
    "\n  query Overview {\n    viewer {\n      role\n    }\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n      }\n      quotas {\n        metric\n        used\n        limit\n        percent\n        resetsAt\n      }\n    }\n  }\n": types.OverviewDocument,
    "\n  query TenantSettings {\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n        features {\n          customBranding\n        }\n      }\n      branding {\n        displayName\n        logoUrl\n        primaryColor\n        accentColor\n        supportEmail\n      }\n    }\n  }\n": types.TenantSettingsDocument,
    "\n  mutation UpdateTenant($input: UpdateTenantInput!) {\n    updateTenant(input: $input) {\n      id\n      name\n      slug\n      branding {\n        displayName\n        logoUrl\n        primaryColor\n        accentColor\n        supportEmail\n      }\n    }\n  }\n": types.UpdateTenantDocument,
    "\n  query TeamMembers($first: Int!, $after: String) {\n    tenant {\n      id\n      name\n      memberCount\n      members(first: $first, after: $after) {\n        nodes {\n          role\n          joinedAt\n          user {\n            id\n            email\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.TeamMembersDocument,
    "\n  query TeamInvitations($first: Int!, $after: String) {\n    tenant {\n      id\n      invitations(first: $first, after: $after) {\n        nodes {\n          id\n          email\n          role\n          status\n          createdAt\n          expiresAt\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.TeamInvitationsDocument,
    "\n  mutation InviteMember($input: InviteMemberInput!) {\n    inviteMember(input: $input) {\n      id\n      email\n      role\n      status\n      expiresAt\n    }\n  }\n": types.InviteMemberDocument,
    "\n  mutation ResendInvitation($id: ID!) {\n    resendInvitation(id: $id) {\n      id\n      email\n      status\n      expiresAt\n    }\n  }\n": types.ResendInvitationDocument,
    "\n  mutation RevokeInvitation($id: ID!) {\n    revokeInvitation(id: $id) {\n      id\n      status\n    }\n  }\n": types.RevokeInvitationDocument,
    "\n  mutation UpdateMemberRole($userId: ID!, $role: Role!) {\n    updateMemberRole(userId: $userId, role: $role) {\n      role\n      user {\n        id\n        email\n      }\n    }\n  }\n": types.UpdateMemberRoleDocument,
    "\n  mutation RemoveMember($userId: ID!) {\n    removeMember(userId: $userId)\n  }\n": types.RemoveMemberDocument,
    "\n  mutation LeaveTenant {\n    leaveTenant\n  }\n": types.LeaveTenantDocument,
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
export function graphql(source: "\n  mutation RequestEmailVerification {\n    requestEmailVerification\n  }\n"): (typeof documents)["\n  mutation RequestEmailVerification {\n    requestEmailVerification\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Overview {\n    viewer {\n      role\n    }\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n      }\n      quotas {\n        metric\n        used\n        limit\n        percent\n        resetsAt\n      }\n    }\n  }\n"): (typeof documents)["\n  query Overview {\n    viewer {\n      role\n    }\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n      }\n      quotas {\n        metric\n        used\n        limit\n        percent\n        resetsAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TenantSettings {\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n        features {\n          customBranding\n        }\n      }\n      branding {\n        displayName\n        logoUrl\n        primaryColor\n        accentColor\n        supportEmail\n      }\n    }\n  }\n"): (typeof documents)["\n  query TenantSettings {\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n        features {\n          customBranding\n        }\n      }\n      branding {\n        displayName\n        logoUrl\n        primaryColor\n        accentColor\n        supportEmail\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateTenant($input: UpdateTenantInput!) {\n    updateTenant(input: $input) {\n      id\n      name\n      slug\n      branding {\n        displayName\n        logoUrl\n        primaryColor\n        accentColor\n        supportEmail\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateTenant($input: UpdateTenantInput!) {\n    updateTenant(input: $input) {\n      id\n      name\n      slug\n      branding {\n        displayName\n        logoUrl\n        primaryColor\n        accentColor\n        supportEmail\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TeamMembers($first: Int!, $after: String) {\n    tenant {\n      id\n      name\n      memberCount\n      members(first: $first, after: $after) {\n        nodes {\n          role\n          joinedAt\n          user {\n            id\n            email\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query TeamMembers($first: Int!, $after: String) {\n    tenant {\n      id\n      name\n      memberCount\n      members(first: $first, after: $after) {\n        nodes {\n          role\n          joinedAt\n          user {\n            id\n            email\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TeamInvitations($first: Int!, $after: String) {\n    tenant {\n      id\n      invitations(first: $first, after: $after) {\n        nodes {\n          id\n          email\n          role\n          status\n          createdAt\n          expiresAt\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query TeamInvitations($first: Int!, $after: String) {\n    tenant {\n      id\n      invitations(first: $first, after: $after) {\n        nodes {\n          id\n          email\n          role\n          status\n          createdAt\n          expiresAt\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation InviteMember($input: InviteMemberInput!) {\n    inviteMember(input: $input) {\n      id\n      email\n      role\n      status\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation InviteMember($input: InviteMemberInput!) {\n    inviteMember(input: $input) {\n      id\n      email\n      role\n      status\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResendInvitation($id: ID!) {\n    resendInvitation(id: $id) {\n      id\n      email\n      status\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation ResendInvitation($id: ID!) {\n    resendInvitation(id: $id) {\n      id\n      email\n      status\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeInvitation($id: ID!) {\n    revokeInvitation(id: $id) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation RevokeInvitation($id: ID!) {\n    revokeInvitation(id: $id) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateMemberRole($userId: ID!, $role: Role!) {\n    updateMemberRole(userId: $userId, role: $role) {\n      role\n      user {\n        id\n        email\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateMemberRole($userId: ID!, $role: Role!) {\n    updateMemberRole(userId: $userId, role: $role) {\n      role\n      user {\n        id\n        email\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveMember($userId: ID!) {\n    removeMember(userId: $userId)\n  }\n"): (typeof documents)["\n  mutation RemoveMember($userId: ID!) {\n    removeMember(userId: $userId)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LeaveTenant {\n    leaveTenant\n  }\n"): (typeof documents)["\n  mutation LeaveTenant {\n    leaveTenant\n  }\n"];
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