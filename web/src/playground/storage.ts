// GraphiQL's storage (tabs, history, editor sizes, theme) in localStorage, with three changes:
// - no headers are ever written (GraphiQL 3 keeps them in its history and favorites even
//   with shouldPersistHeaders off: a bearer token or a pasted API key would outlive the
//   session in localStorage);
// - tabs come back with the current session's headers (GraphiQL stores them as null, since
//   headers are not persisted, so restored tabs would otherwise run signed out);
// - `?example=<page>` keeps its tabs (and editor texts) apart from the user's own and opens
//   them fresh.

/** GraphiQL's Storage interface (@graphiql/toolkit). */
export interface PlaygroundStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  clear(): void;
  length: number;
}

const TAB_STATE = 'graphiql:tabState';

function backing(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // storage disabled: nothing is kept
  }
}

/** Sets every tab's headers in a stored tab state to `headers`; unreadable state is dropped. */
export function withHeaders(stored: string, headers: string | null): string | null {
  try {
    const state = JSON.parse(stored) as { tabs?: Array<Record<string, unknown>> };
    if (!Array.isArray(state.tabs)) return null;
    for (const tab of state.tabs) {
      if (tab && typeof tab === 'object') tab.headers = headers;
    }
    return JSON.stringify(state);
  } catch {
    return null;
  }
}

/** `value` with every `headers` property nulled (JSON), or unchanged (not JSON). */
export function withoutHeaders(value: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return value;
  }
  const scrub = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(scrub);
    else if (v && typeof v === 'object') {
      for (const [k, inner] of Object.entries(v as Record<string, unknown>)) {
        if (k === 'headers') (v as Record<string, unknown>)[k] = null;
        else scrub(inner);
      }
    }
  };
  scrub(parsed);
  return JSON.stringify(parsed);
}

export function tabStorage(opts: {
  /** The headers every tab starts with (the session's), or null. */
  headers: string | null;
  /** Forget the stored tabs first (the example tabs open as given). */
  fresh: boolean;
  /** Keep the tabs and editor texts under keys of their own (`?example=<page>`). */
  namespace?: string;
}, store: Storage | null = backing()): PlaygroundStorage {
  // What GraphiQL keeps of the editors: the tabs, and the active tab's texts.
  const own = new Set([TAB_STATE, 'graphiql:query', 'graphiql:variables', 'graphiql:headers']);
  const mapped = (key: string) => (opts.namespace && own.has(key) ? `${key}:example:${opts.namespace}` : key);
  const tabKey = mapped(TAB_STATE);
  if (opts.fresh) {
    try {
      for (const key of own) store?.removeItem(mapped(key));
    } catch {
      /* nothing stored */
    }
  }
  return {
    getItem(key) {
      if (!store) return null;
      if (key === TAB_STATE) {
        const stored = store.getItem(tabKey);
        return stored ? withHeaders(stored, opts.headers) : null;
      }
      return store.getItem(mapped(key));
    },
    setItem(key, value) {
      // The headers editor's own text is the token itself: never kept.
      if (key === 'graphiql:headers') return;
      try {
        store?.setItem(mapped(key), withoutHeaders(value));
      } catch {
        /* full or disabled: GraphiQL keeps working from memory */
      }
    },
    removeItem(key) {
      store?.removeItem(mapped(key));
    },
    clear() {
      if (!store) return;
      for (const key of Object.keys(store)) {
        if (key.startsWith('graphiql:')) store.removeItem(key);
      }
    },
    get length() {
      return store ? Object.keys(store).filter((k) => k.startsWith('graphiql:')).length : 0;
    },
  };
}
