// The operations the app uses, with their result types (kept by hand until the schema
// grows enough to warrant code generation from schema.graphql).

export type Role = 'OWNER' | 'ADMIN' | 'MEMBER' | 'BILLING' | 'VIEWER';

export interface User {
  id: string;
  email: string;
}

export interface Tenant {
  id: string;
  name: string;
  slug: string;
}

export interface Viewer {
  user: User;
  tenant: Tenant | null;
  role: Role | null;
}

export const SIGN_UP = /* GraphQL */ `
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) {
      accessToken
      expiresAt
      user { id email }
      tenant { id name slug }
    }
  }
`;

export interface SignUpInput {
  email: string;
  password: string;
  tenantName: string;
}

export interface SignUpResult {
  signUp: {
    accessToken: string;
    expiresAt: string;
    user: User;
    tenant: Tenant;
  };
}

export const VIEWER = /* GraphQL */ `
  query Viewer {
    viewer {
      user { id email }
      tenant { id name slug }
      role
    }
  }
`;

export interface ViewerResult {
  viewer: Viewer | null;
}
