// What each role means, in the words the Team page shows.
import type { Role } from '../../../gql/graphql';

export const ROLE_LABEL: Record<Role, string> = {
  OWNER: 'Owner',
  ADMIN: 'Admin',
  MEMBER: 'Member',
  BILLING: 'Billing',
  VIEWER: 'Viewer',
};

export const ROLE_HELP: Record<Role, string> = {
  OWNER: 'Full control, including billing and the workspace itself',
  ADMIN: 'Manages members, API keys and settings',
  MEMBER: 'Uses the product and reads the team',
  BILLING: 'Plans, invoices and payment only',
  VIEWER: 'Reads, changes nothing',
};

export const ROLE_COLOR: Record<Role, string> = {
  // Light badges print their text in shade 8: these stay AA on their tint.
  OWNER: 'grape',
  ADMIN: 'blue',
  MEMBER: 'violet',
  BILLING: 'gray',
  VIEWER: 'gray',
};

/** A stack of cursors for paging through a connection (Previous / Next). */
export interface Pages {
  after: string | null;
  page: number;
  next: (cursor: string | null | undefined) => void;
  previous: () => void;
}
