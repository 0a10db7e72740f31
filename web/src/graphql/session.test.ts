import { afterEach, describe, expect, it } from 'vitest';
import { clearToken, expiresSoon, getToken, setToken, tokenExpiry } from './session';

function jwt(payload: object): string {
  const b64 = (s: string) => btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `${b64('{"alg":"HS256"}')}.${b64(JSON.stringify(payload))}.sig`;
}

describe('token store', () => {
  afterEach(() => clearToken());

  it('keeps the token in memory and clears it', () => {
    expect(getToken()).toBeNull();
    setToken('abc');
    expect(getToken()).toBe('abc');
    clearToken();
    expect(getToken()).toBeNull();
  });

  it('reads the expiry of a JWT and says when it is close', () => {
    const token = jwt({ exp: 2_000_000_000 });
    expect(tokenExpiry(token)).toBe(2_000_000_000_000);
    expect(expiresSoon(token, 2_000_000_000_000 - 120_000)).toBe(false);
    expect(expiresSoon(token, 2_000_000_000_000 - 30_000)).toBe(true);
  });

  it('treats unreadable tokens as expiring', () => {
    expect(tokenExpiry('not-a-jwt')).toBeNull();
    expect(tokenExpiry(`a.${btoa('{nope')}.c`)).toBeNull();
    expect(expiresSoon(null)).toBe(true);
    expect(expiresSoon('x.y.z')).toBe(true);
  });
});

describe('token identity', () => {
  function jwt2(payload: object): string {
    const b64 = (s: string) => btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    return `${b64('{"alg":"HS256"}')}.${b64(JSON.stringify(payload))}.sig`;
  }
  it('tells users and tenants apart, and is null for unreadable tokens', async () => {
    const { tokenIdentity } = await import('./session');
    expect(tokenIdentity(jwt2({ sub: 'u1', tid: 't1' }))).toBe('u1/t1');
    expect(tokenIdentity(jwt2({ sub: 'u1', tid: 't2' }))).not.toBe(tokenIdentity(jwt2({ sub: 'u1', tid: 't1' })));
    expect(tokenIdentity(jwt2({ sub: 'u1' }))).toBe('u1/');
    expect(tokenIdentity('nope')).toBeNull();
  });
});
