// The subscriptions socket's state, for pages that show whether their feed is live:
// `connecting` (first connection or a retry), `live` (acknowledged), `closed` (no socket:
// idle or given up). `generation` counts connections, so a page can re-read what it may
// have missed while the socket was down (a new generation after the first).
import { useSyncExternalStore } from 'react';

export type SocketState = 'connecting' | 'live' | 'closed';

interface Snapshot {
  state: SocketState;
  generation: number;
}

let snapshot: Snapshot = { state: 'closed', generation: 0 };
const listeners = new Set<() => void>();

function set(next: Snapshot) {
  snapshot = next;
  for (const l of listeners) l();
}

/** Called by the graphql-ws client's event listeners (client.ts). */
export const socketEvents = {
  connecting: () => set({ ...snapshot, state: 'connecting' }),
  connected: () => set({ state: 'live', generation: snapshot.generation + 1 }),
  closed: () => set({ ...snapshot, state: 'closed' }),
};

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The socket's state, re-rendering on every change. */
export function useSocketState(): Snapshot {
  return useSyncExternalStore(subscribe, () => snapshot);
}
