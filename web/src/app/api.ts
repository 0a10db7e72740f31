import { createClient } from '../graphql/client';
import { getToken } from '../graphql/session';

/** The app's one GraphQL client: same-origin /graphql, bearer token from the session. */
export const api = createClient({ getToken });
