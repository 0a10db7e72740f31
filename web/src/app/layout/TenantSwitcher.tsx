// Switches the tenant the session acts in (for users in several tenants). Not on a tenant's
// own address (its subdomain or custom domain): there the address decides the workspace.
import { Select } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { useQuery } from 'urql';
import { toAppError } from '../../graphql/errors';
import { useAuth } from '../auth/AuthProvider';
import { HostTenantDocument } from '../auth/hostTenant';

export function TenantSwitcher({
  current,
  memberships,
}: {
  current: string | null;
  memberships: ReadonlyArray<{ role: string; tenant: { id: string; name: string } }>;
}) {
  const { switchTenant } = useAuth();
  const [busy, setBusy] = useState(false);
  const [host] = useQuery({ query: HostTenantDocument });
  if (memberships.length < 2 || host.data?.hostTenant) return null;
  return (
    <Select
      aria-label="Workspace"
      size="xs"
      w={200}
      allowDeselect={false}
      disabled={busy}
      value={current}
      data={memberships.map((m) => ({ value: m.tenant.id, label: `${m.tenant.name} (${m.role.toLowerCase()})` }))}
      onChange={(id) => {
        if (!id || id === current) return;
        setBusy(true);
        switchTenant(id)
          .catch((e: unknown) => {
            const err = toAppError(e);
            notifications.show({ color: 'red', title: `Could not switch (${err.code})`, message: err.message });
          })
          .finally(() => setBusy(false));
      }}
    />
  );
}
