import { describe, expect, it } from 'vitest';
import { tabStorage, withHeaders, withoutHeaders } from './storage';

/** A Storage in memory. */
function memory(): Storage {
  const map = new Map<string, string>();
  return {
    get length() {
      return map.size;
    },
    clear: () => map.clear(),
    getItem: (k: string) => map.get(k) ?? null,
    key: (i: number) => Array.from(map.keys())[i] ?? null,
    removeItem: (k: string) => void map.delete(k),
    setItem: (k: string, v: string) => void map.set(k, v),
  } as Storage;
}

const HEADERS = '{"Authorization": "Bearer t"}';
const TABS = JSON.stringify({
  activeTabIndex: 0,
  tabs: [{ id: '1', title: 'A', query: '{ a }', variables: null, headers: null, operationName: null, response: null }],
});

describe('playground storage', () => {
  it('never writes headers: history, favorites, tabs, the headers editor', () => {
    const store = memory();
    const storage = tabStorage({ headers: HEADERS, fresh: false }, store);
    const history = JSON.stringify({ queries: [{ query: '{ a }', headers: HEADERS, variables: '{}' }] });
    storage.setItem('graphiql:queries', history);
    storage.setItem('graphiql:favorites', history);
    storage.setItem('graphiql:tabState', withHeaders(TABS, HEADERS)!);
    storage.setItem('graphiql:headers', HEADERS);
    storage.setItem('graphiql:editorFlex', '1');
    const all = Object.values(Object.fromEntries(['graphiql:queries', 'graphiql:favorites', 'graphiql:tabState', 'graphiql:headers'].map((k) => [k, store.getItem(k) ?? ''])));
    for (const v of all) expect(v).not.toContain('Bearer');
    expect(JSON.parse(store.getItem('graphiql:queries')!).queries[0]).toMatchObject({ query: '{ a }', headers: null });
    expect(store.getItem('graphiql:headers')).toBeNull();
    expect(store.getItem('graphiql:editorFlex')).toBe('1');
    expect(withoutHeaders('not json')).toBe('not json');
  });


  it('gives restored tabs the current headers, and drops unreadable state', () => {
    const state = JSON.parse(withHeaders(TABS, HEADERS)!);
    expect(state.tabs[0].headers).toBe(HEADERS);
    expect(withHeaders('not json', HEADERS)).toBeNull();
    expect(withHeaders('{}', HEADERS)).toBeNull();
  });

  it('keeps example tabs apart and opens them fresh', () => {
    const store = memory();
    store.setItem('graphiql:tabState', TABS);
    store.setItem('graphiql:tabState:example:keys', TABS);
    store.setItem('graphiql:query', '{ mine }');
    const example = tabStorage({ headers: HEADERS, fresh: true, namespace: 'keys' }, store);
    expect(example.getItem('graphiql:tabState')).toBeNull();
    expect(example.getItem('graphiql:query')).toBeNull();
    example.setItem('graphiql:query', '{ example }');
    // The user's own tabs and texts are untouched.
    expect(store.getItem('graphiql:tabState')).toBe(TABS);
    expect(store.getItem('graphiql:query')).toBe('{ mine }');
    const own = tabStorage({ headers: HEADERS, fresh: false }, store);
    expect(JSON.parse(own.getItem('graphiql:tabState')!).tabs[0].headers).toBe(HEADERS);
    expect(own.getItem('graphiql:query')).toBe('{ mine }');
  });
});
