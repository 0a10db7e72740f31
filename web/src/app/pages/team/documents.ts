// The Team page's operations.
import { graphql } from '../../../gql';

export const TeamMembersDocument = graphql(`
  query TeamMembers($first: Int!, $after: String) {
    tenant {
      id
      name
      memberCount
      members(first: $first, after: $after) {
        nodes {
          role
          joinedAt
          user {
            id
            email
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

export const TeamInvitationsDocument = graphql(`
  query TeamInvitations($first: Int!, $after: String) {
    tenant {
      id
      invitations(first: $first, after: $after) {
        nodes {
          id
          email
          role
          status
          createdAt
          expiresAt
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

export const InviteMemberDocument = graphql(`
  mutation InviteMember($input: InviteMemberInput!) {
    inviteMember(input: $input) {
      id
      email
      role
      status
      expiresAt
    }
  }
`);

export const ResendInvitationDocument = graphql(`
  mutation ResendInvitation($id: ID!) {
    resendInvitation(id: $id) {
      id
      email
      status
      expiresAt
    }
  }
`);

export const RevokeInvitationDocument = graphql(`
  mutation RevokeInvitation($id: ID!) {
    revokeInvitation(id: $id) {
      id
      status
    }
  }
`);

export const UpdateMemberRoleDocument = graphql(`
  mutation UpdateMemberRole($userId: ID!, $role: Role!) {
    updateMemberRole(userId: $userId, role: $role) {
      role
      user {
        id
        email
      }
    }
  }
`);

export const RemoveMemberDocument = graphql(`
  mutation RemoveMember($userId: ID!) {
    removeMember(userId: $userId)
  }
`);

export const LeaveTenantDocument = graphql(`
  mutation LeaveTenant {
    leaveTenant
  }
`);
