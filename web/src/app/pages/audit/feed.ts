// The live feed of new audit entries (`auditEvents` over the WebSocket): the entries that
// arrived since the page was opened, newest first, and the feed's state. When the server
// ends the feed (e.g. UNAVAILABLE: its instance may have missed entries) or the socket comes
// back after a drop, `onGap` runs so the page re-reads the log, and the feed resubscribes.
import { useEffect, useRef, useState } from 'react';
import { useSubscription } from 'urql';
import { hasCode } from '../../../graphql/errors';
import { useSocketState } from '../../../graphql/socketStatus';
import type { AuditEntryFieldsFragment } from '../../../gql/graphql';
import { AuditEventsDocument } from './documents';

export type FeedState = 'connecting' | 'live' | 'reconnecting' | 'stopped';

const KEEP = 200;
const RETRY_MS = 3_000;

export function useAuditFeed(onGap: () => void): {
  entries: AuditEntryFieldsFragment[];
  state: FeedState;
  error: unknown;
  clear: () => void;
} {
  const [entries, setEntries] = useState<AuditEntryFieldsFragment[]>([]);
  const [paused, setPaused] = useState(false);
  const socket = useSocketState();
  const [result] = useSubscription({ query: AuditEventsDocument, pause: paused }, (_prev, data) => data);
  const gapRef = useRef(onGap);
  gapRef.current = onGap;

  // Each event once, newest first.
  const last = result.data?.auditEvents;
  useEffect(() => {
    if (!last) return;
    setEntries((list) => (list.some((e) => e.id === last.id) ? list : [last, ...list].slice(0, KEEP)));
  }, [last]);

  // The feed ended with an error: resubscribe shortly and re-read (entries may be missed),
  // unless the server refused the subscriber itself (its role).
  const refused = hasCode(result.error, 'FORBIDDEN') || hasCode(result.error, 'UNAUTHENTICATED');
  useEffect(() => {
    if (!result.error || refused) return;
    const t = setTimeout(() => {
      setPaused(true);
      setTimeout(() => {
        setPaused(false);
        gapRef.current();
      }, 0);
    }, RETRY_MS);
    return () => clearTimeout(t);
  }, [result.error, refused]);

  // The socket came back after a drop: entries committed meanwhile were not pushed.
  const seen = useRef(socket.generation);
  const [wasLive, setWasLive] = useState(socket.state === 'live');
  useEffect(() => {
    if (socket.state !== 'live' || socket.generation === seen.current) return;
    seen.current = socket.generation;
    if (wasLive) gapRef.current();
    else setWasLive(true);
  }, [socket.generation, socket.state, wasLive]);

  const state: FeedState = refused
    ? 'stopped'
    : result.error || (socket.state !== 'live' && wasLive)
      ? 'reconnecting'
      : socket.state === 'live'
        ? 'live'
        : 'connecting';

  return { entries, state, error: refused ? result.error : null, clear: () => setEntries([]) };
}
