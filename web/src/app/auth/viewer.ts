// Who is signed in: the viewer query every page can read from the cache.
import { graphql } from '../../gql';
import type { Role } from '../../gql/graphql';

export const ViewerDocument = graphql(`
  query Viewer {
    viewer {
      user {
        id
        email
        emailVerified
      }
      role
      isPlatformAdmin
      tenantRefusal
      tenant {
        id
        name
        slug
        status
        statusReason
        planKey
        branding {
          displayName
          logoUrl
          primaryColor
          accentColor
          supportEmail
        }
      }
      memberships {
        role
        tenant {
          id
          name
          slug
          status
        }
      }
    }
  }
`);

const RANK: Record<Role, number> = { OWNER: 4, ADMIN: 3, MEMBER: 2, BILLING: 1, VIEWER: 1 };

/** A role's rank: owner > admin > member > billing = viewer. */
export function roleRank(role: Role): number {
  return RANK[role];
}

/** The server's rule: owner > admin > member; billing and viewer rank lowest. */
export function roleAtLeast(role: Role | null | undefined, min: Role): boolean {
  if (!role) return false;
  return role === min || RANK[role] > RANK[min];
}

/** What a role may do in the portal (the server checks again; this only hides buttons). */
export function permissions(role: Role | null | undefined) {
  return {
    manageTeam: roleAtLeast(role, 'ADMIN'),
    manageKeys: roleAtLeast(role, 'ADMIN'),
    /** Any role but billing lists keys (the server's `Manager::require_read`). */
    readKeys: role != null && role !== 'BILLING',
    manageSettings: roleAtLeast(role, 'ADMIN'),
    manageBilling: role === 'OWNER' || role === 'BILLING',
    readBilling: role === 'OWNER' || role === 'ADMIN' || role === 'BILLING',
    /** The member list: every role but billing (the server's rule). */
    readTeam: role != null && role !== 'BILLING',
    /** Pending invitations: admins and owners. */
    readInvitations: roleAtLeast(role, 'ADMIN'),
    readAudit: roleAtLeast(role, 'ADMIN'),
    /** Webhook endpoints and their deliveries: admins and owners (the server's rule). */
    manageWebhooks: roleAtLeast(role, 'ADMIN'),
    /** A workspace's data exports: owners only (the server's rule). */
    exportData: role === 'OWNER',
    /** Deleting the workspace, and cancelling that: owners only. */
    deleteWorkspace: role === 'OWNER',
    /** Roles an inviter may grant: never above their own; only owners make owners. */
    grantable: (['OWNER', 'ADMIN', 'MEMBER', 'BILLING', 'VIEWER'] as Role[]).filter((r) =>
      role === 'OWNER' ? true : role === 'ADMIN' ? r !== 'OWNER' : false,
    ),
  };
}
