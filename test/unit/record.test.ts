import { describe, expect, it } from 'vitest';
import {
  isLive,
  needsRefresh,
  newSessionTimes,
  shouldSlide,
  slid,
  storeExpiry,
  userClaims,
  type SessionRecord,
} from '../../src/session/records/record.js';
import { accessTokenTimes } from '../../src/oidc/token-response.js';

const lifetimes = { idleTimeoutMs: 30 * 60_000, maxAgeMs: 12 * 3600_000 };
function record(now: number): SessionRecord {
  return {
    sub: 'u',
    idpSid: undefined,
    claims: {},
    tokens: {
      accessToken: 'a',
      refreshToken: undefined,
      idToken: undefined,
      tokenType: 'bearer',
      scope: undefined,
    },
    accessTokenExpiresAt: now + 60_000,
    accessTokenIssuedAt: now,
    ...newSessionTimes(now, lifetimes),
  };
}

describe('session record', () => {
  it('expires in the store at the earlier of idle and absolute end', () => {
    const r = record(0);
    expect(storeExpiry(r)).toBe(30 * 60_000);
    expect(storeExpiry({ ...r, absoluteExpiresAt: 10 })).toBe(10);
    expect(isLive(r, 30 * 60_000 - 1)).toBe(true);
    expect(isLive(r, 30 * 60_000)).toBe(false);
  });

  it('slides lazily: not before a tenth of the idle timeout has passed', () => {
    const r = record(0);
    expect(shouldSlide(r, 60_000, lifetimes)).toBe(false);
    expect(shouldSlide(r, 3 * 60_000, lifetimes)).toBe(true);
    const moved = slid(r, 3 * 60_000, lifetimes);
    expect(moved.idleExpiresAt).toBe(33 * 60_000);
    expect(shouldSlide(moved, 4 * 60_000, lifetimes)).toBe(false);
  });

  it('never slides past the absolute end', () => {
    const r = { ...record(0), idleExpiresAt: 12 * 3600_000 };
    expect(shouldSlide(r, 12 * 3600_000 - 1000, lifetimes)).toBe(false);
  });

  it('user claims merge UserInfo and drop protocol claims', () => {
    const claims = userClaims(
      {
        sub: 'u1',
        iss: 'i',
        aud: 'a',
        exp: 1,
        iat: 1,
        nonce: 'n',
        at_hash: 'h',
        c_hash: 'c',
        azp: 'z',
        sid: 's',
        name: 'Old',
      },
      { sub: 'u1', name: 'Alice', email: 'a@example.com' },
    );
    expect(claims).toEqual({ sub: 'u1', name: 'Alice', email: 'a@example.com' });
  });

  it('acr, amr and auth_time come only from the verified ID token, never from UserInfo', () => {
    const signedIn = userClaims(
      { sub: 'u1', acr: 'urn:example:pwd', amr: ['pwd'], auth_time: 100 },
      { sub: 'u1', acr: 'urn:example:mfa', amr: ['pwd', 'otp'], auth_time: 999, groups: ['g'] },
    );
    expect(signedIn).toEqual({
      sub: 'u1',
      acr: 'urn:example:pwd',
      amr: ['pwd'],
      auth_time: 100,
      groups: ['g'],
    });
    // An ID token without them: UserInfo cannot supply them either.
    const bare = userClaims({ sub: 'u1' }, { sub: 'u1', acr: 'urn:example:mfa', auth_time: 999 });
    expect(bare).toEqual({ sub: 'u1' });
  });

  it('access token expiry: expires_in, else JWT exp, else the default', () => {
    const jwt = `x.${Buffer.from(JSON.stringify({ exp: 2000 })).toString('base64url')}.y`;
    expect(accessTokenTimes('opaque', 60, 1000)).toEqual({
      accessTokenIssuedAt: 1000,
      accessTokenExpiresAt: 61_000,
    });
    expect(accessTokenTimes(jwt, undefined, 1000).accessTokenExpiresAt).toBe(2_000_000);
    expect(accessTokenTimes('opaque', undefined, 1000).accessTokenExpiresAt).toBe(1000 + 5 * 60_000);
  });

  it('refreshes within the skew, the skew capped at half the lifetime', () => {
    const t = { accessTokenIssuedAt: 0, accessTokenExpiresAt: 60_000 };
    expect(needsRefresh(t, 29_999, 30_000)).toBe(false);
    expect(needsRefresh(t, 30_000, 30_000)).toBe(true);
    const short = { accessTokenIssuedAt: 0, accessTokenExpiresAt: 20_000 };
    expect(needsRefresh(short, 1_000, 30_000)).toBe(false);
    expect(needsRefresh(short, 10_000, 30_000)).toBe(true);
    expect(needsRefresh(t, 70_000, 0)).toBe(true);
  });
});
