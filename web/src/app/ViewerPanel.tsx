import { useEffect, useId, useRef } from 'react';
import type { Role, Viewer } from '../graphql/operations';

const ROLE_LABELS: Record<Role, string> = {
  OWNER: 'Owner',
  ADMIN: 'Admin',
  MEMBER: 'Member',
  BILLING: 'Billing',
  VIEWER: 'Viewer',
};

export function ViewerPanel({ viewer, onSignOut }: { viewer: Viewer; onSignOut: () => void }) {
  const titleId = useId();
  const titleRef = useRef<HTMLHeadingElement>(null);
  // Move focus to the panel's heading so keyboard and screen-reader users land on the result.
  useEffect(() => titleRef.current?.focus(), []);
  const role = viewer.role ? (ROLE_LABELS[viewer.role] ?? viewer.role) : 'No role';
  return (
    <section className="card" aria-labelledby={titleId} data-testid="viewer">
      <p className="card__eyebrow">Signed in</p>
      <h1 id={titleId} className="card__title" ref={titleRef} tabIndex={-1}>
        {viewer.tenant ? viewer.tenant.name : 'No workspace selected'}
      </h1>
      <dl className="facts">
        <div className="facts__row">
          <dt>Email</dt>
          <dd data-testid="viewer-email">{viewer.user.email}</dd>
        </div>
        <div className="facts__row">
          <dt>Workspace</dt>
          <dd data-testid="viewer-tenant-name">{viewer.tenant?.name ?? '—'}</dd>
        </div>
        <div className="facts__row">
          <dt>Slug</dt>
          <dd>
            <code data-testid="viewer-tenant-slug">{viewer.tenant?.slug ?? '—'}</code>
          </dd>
        </div>
        <div className="facts__row">
          <dt>Role</dt>
          <dd>
            <span className={`badge badge--${(viewer.role ?? 'none').toLowerCase()}`} data-testid="viewer-role">
              {role}
            </span>
          </dd>
        </div>
      </dl>
      <div className="actions">
        <a className="button button--secondary" href="/playground">
          Open playground
        </a>
        <button className="button button--ghost" type="button" onClick={onSignOut}>
          Sign out
        </button>
      </div>
      <p className="card__note">
        The playground sends your session as an <code>Authorization</code> header, so you can
        query your workspace right away.
      </p>
    </section>
  );
}
