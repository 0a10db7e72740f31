// The app's URLs. Signed-out pages under /auth/; everything else inside the signed-in
// Shell. Pages are loaded on demand (code-split), one line each (keep merges easy).
import { lazy, type ComponentType } from 'react';
import { createBrowserRouter, type RouteObject } from 'react-router';
import { AcceptInvitation } from './auth/AcceptInvitation';
import { ForgotPassword, MagicLink, ResetPassword, VerifyEmail } from './auth/links';
import { SignIn } from './auth/SignIn';
import { SignUp } from './auth/SignUp';
import { Shell } from './layout/Shell';
import { NotFound } from './pages/NotFound';
import { Overview } from './pages/Overview';

/** A page loaded on first visit: `lazyPage(() => import('./pages/Team'), 'Team')`. */
export function lazyPage<M extends Record<string, unknown>>(load: () => Promise<M>, name: keyof M) {
  return lazy(async () => ({ default: (await load())[name] as ComponentType }));
}

const Keys = lazyPage(() => import('./pages/keys/Keys'), 'Keys');
const KeyDetail = lazyPage(() => import('./pages/keys/KeyDetail'), 'KeyDetail');
const Publishable = lazyPage(() => import('./pages/publishable/Publishable'), 'Publishable');
const Audit = lazyPage(() => import('./pages/audit/Audit'), 'Audit');

export const PORTAL_ROUTES: RouteObject[] = [
  { index: true, element: <Overview /> },
  { path: 'team', Component: lazyPage(() => import('./pages/team/Team'), 'Team') },
  { path: 'settings', Component: lazyPage(() => import('./pages/settings/Settings'), 'Settings') },
  { path: 'billing', Component: lazyPage(() => import('./pages/billing/Billing'), 'Billing') },
  { path: 'usage', Component: lazyPage(() => import('./pages/usage/Usage'), 'Usage') },
  { path: 'account', Component: lazyPage(() => import('./pages/account/Account'), 'Account') },
  { path: 'admin', Component: lazyPage(() => import('./pages/admin/AdminTenants'), 'AdminTenants') },
  { path: 'admin/stats', Component: lazyPage(() => import('./pages/admin/AdminStats'), 'AdminStats') },
  { path: 'admin/tenants/:id', Component: lazyPage(() => import('./pages/admin/AdminTenant'), 'AdminTenant') },
  { path: 'keys', element: <Keys /> },
  { path: 'keys/:id', element: <KeyDetail /> },
  { path: 'publishable-keys', element: <Publishable /> },
  { path: 'audit', element: <Audit /> },
  { path: 'webhooks', Component: lazyPage(() => import('./pages/webhooks/Webhooks'), 'Webhooks') },
  { path: 'webhooks/:id', Component: lazyPage(() => import('./pages/webhooks/WebhookDetail'), 'WebhookDetail') },
  { path: '*', element: <NotFound /> },
];

export const routes: RouteObject[] = [
  { path: '/auth/sign-in', element: <SignIn /> },
  { path: '/auth/sign-up', element: <SignUp /> },
  { path: '/auth/forgot-password', element: <ForgotPassword /> },
  { path: '/auth/reset-password', element: <ResetPassword /> },
  { path: '/auth/magic-link', element: <MagicLink /> },
  { path: '/auth/verify-email', element: <VerifyEmail /> },
  { path: '/auth/accept-invitation', element: <AcceptInvitation /> },
  { path: '/', element: <Shell />, children: PORTAL_ROUTES },
];

export function makeRouter() {
  return createBrowserRouter(routes);
}
