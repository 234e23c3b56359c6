/**
 * Session records for tests of the session storage, and the stored format of earlier gateway versions.
 *
 *   const record = sampleRecord(Date.now());                       // an ID token and a JWT access token
 *   await kv.set(keys.session(sid), legacyStoredSession(vault, sid, record), ttlMs);   // as 0.1 stored it
 *   const { kv, redis, stop } = await KV_STORES.redis();        // or KV_STORES.memory()
 */
import { randomBytes } from 'node:crypto';
import type { KvStore } from '../../src/session/store/kv-store.js';
import { MemoryKvStore } from '../../src/session/store/memory-kv-store.js';
import { RedisKvStore } from '../../src/session/store/redis-kv-store.js';
import type { SessionRecord } from '../../src/session/records/record.js';
import type { Vault } from '../../src/session/vault.js';
import { startRedis, type RedisServer } from './redis.js';

/** A JWT-shaped token (compact JSON header and payload, a random RS256-sized signature). */
export function fakeJwt(payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const head = { alg: 'RS256', typ: 'JWT', kid: 'test-rs256', ...header };
  return `${part(head)}.${part(payload)}.${randomBytes(256).toString('base64url')}`;
}

export function sampleRecord(now: number, overrides: Partial<SessionRecord> = {}): SessionRecord {
  const iat = Math.floor(now / 1000);
  const claims = { sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com', email_verified: true };
  const idpSid = randomBytes(32).toString('base64url');
  return {
    sub: 'alice',
    idpSid,
    claims,
    tokens: {
      accessToken: fakeJwt(
        { jti: randomBytes(16).toString('hex'), sub: 'alice', iat, exp: iat + 60, client_id: 'bff' },
        { typ: 'at+jwt' },
      ),
      refreshToken: randomBytes(32).toString('base64url'),
      idToken: fakeJwt({
        ...claims,
        nonce: randomBytes(16).toString('base64url'),
        sid: idpSid,
        aud: 'bff',
        exp: iat + 3600,
        iat,
        iss: 'https://idp.example.com',
      }),
      tokenType: 'bearer',
      scope: 'openid profile email offline_access',
    },
    accessTokenExpiresAt: now + 60_000,
    accessTokenIssuedAt: now,
    createdAt: now,
    absoluteExpiresAt: now + 12 * 3600_000,
    idleExpiresAt: now + 30 * 60_000,
    ...overrides,
  };
}

/**
 * A session value exactly as gateway 0.1 stored it: connect-redis's JSON of `{cookie: {expires},
 * sealed}`, where `sealed` is the text envelope of express-session's whole session (its cookie too).
 */
export function legacyStoredSession(vault: Vault, sid: string, record: SessionRecord): string {
  const cookie = {
    originalMaxAge: null,
    expires: null,
    secure: false,
    httpOnly: true,
    path: '/',
    sameSite: 'strict',
  };
  const expires = new Date(Math.min(record.idleExpiresAt, record.absoluteExpiresAt));
  return JSON.stringify({
    cookie: { expires },
    sealed: vault.seal(JSON.stringify({ cookie, bff: record }), sid, 'session'),
  });
}

/** The two KvStores, for suites that must hold for both: a real redis-server, and the in-memory one. */
export interface KvFixture {
  kv: KvStore;
  /** The Redis behind `kv`, for assertions (undefined for the in-memory store). */
  redis: RedisServer | undefined;
  stop(): Promise<void>;
}

export const KV_STORES = {
  async redis(): Promise<KvFixture> {
    const redis = await startRedis();
    return { kv: new RedisKvStore(redis.client), redis, stop: () => redis.stop() };
  },
  async memory(): Promise<KvFixture> {
    return { kv: new MemoryKvStore(), redis: undefined, stop: async () => {} };
  },
};
