import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

class MemoryStorage implements Storage {
  private map = new Map<string, string>();
  get length() {
    return this.map.size;
  }
  clear() {
    this.map.clear();
  }
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  key(i: number) {
    return [...this.map.keys()][i] ?? null;
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
  setItem(k: string, v: string) {
    this.map.set(k, v);
  }
}

describe('session token', () => {
  beforeEach(() => {
    vi.resetModules();
    vi.stubGlobal('sessionStorage', new MemoryStorage());
  });
  afterEach(() => vi.unstubAllGlobals());

  it('stores, reads back after a "reload" and clears the token', async () => {
    const first = await import('./session');
    expect(first.getToken()).toBeNull();
    first.setToken('abc');
    expect(sessionStorage.getItem(first.TOKEN_STORAGE_KEY)).toBe('abc');

    vi.resetModules(); // a fresh module = a page reload with the same sessionStorage
    const second = await import('./session');
    expect(second.getToken()).toBe('abc');
    second.clearToken();
    expect(second.getToken()).toBeNull();
    expect(sessionStorage.getItem(second.TOKEN_STORAGE_KEY)).toBeNull();
  });

  it('keeps working in memory when storage throws', async () => {
    vi.stubGlobal('sessionStorage', {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
      removeItem: () => {
        throw new Error('denied');
      },
    });
    const s = await import('./session');
    expect(s.getToken()).toBeNull();
    s.setToken('mem');
    expect(s.getToken()).toBe('mem');
    s.clearToken();
    expect(s.getToken()).toBeNull();
  });
});
