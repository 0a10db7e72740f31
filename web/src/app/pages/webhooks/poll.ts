// Reading the delivery log again while a delivery is pending: after 2 s, then 4, 8, 16 and
// 30 s at most between reads, for at most five minutes (then the Refresh button is the way),
// and never while the tab is hidden (showing it again starts over at 2 s).
import { useEffect } from 'react';

/** The first wait, the longest, and how long polling goes on at most (ms). */
export const FIRST_DELAY = 2_000;
export const MAX_DELAY = 30_000;
export const GIVE_UP_AFTER = 5 * 60_000;

/** The wait before read number `n` (0-based), or `null` once `elapsed` ms have passed the limit. */
export function nextDelay(n: number, elapsed: number): number | null {
  const delay = Math.min(FIRST_DELAY * 2 ** Math.min(n, 10), MAX_DELAY);
  return elapsed + delay > GIVE_UP_AFTER ? null : delay;
}

/** Calls `read` on the back-off schedule while `active` and the tab is visible. */
export function useBackoffPoll(active: boolean, read: () => void) {
  useEffect(() => {
    if (!active) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let n = 0;
    let started = Date.now();
    const schedule = () => {
      clearTimeout(timer);
      timer = undefined;
      if (document.hidden) return;
      const delay = nextDelay(n, Date.now() - started);
      if (delay === null) return;
      timer = setTimeout(() => {
        n += 1;
        read();
        schedule();
      }, delay);
    };
    const onVisibility = () => {
      if (document.hidden) {
        clearTimeout(timer);
        timer = undefined;
      } else {
        n = 0;
        started = Date.now();
        schedule();
      }
    };
    document.addEventListener('visibilitychange', onVisibility);
    schedule();
    return () => {
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [active, read]);
}
