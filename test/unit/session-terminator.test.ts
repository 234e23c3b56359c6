/**
 * The one place that ends sessions (session/session-terminator.ts), against a real redis-server: the
 * record leaves the store, its back-channel index entries go, the listeners (the proxy's WebSockets)
 * are told, and the end is counted by kind; sessions that ended without it are found by the sweep.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStores } from '../../src/session/store/stores.js';
import type { SessionRecord } from '../../src/session/records/record.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { sampleRecord } from '../helpers/sessions.js';
import { sessionWorld, WORLD_ISSUER, type SessionWorld } from '../helpers/session-world.js';

let redis: RedisServer;
let w: SessionWorld;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
beforeEach(async () => {
  await redis.flush();
  w = sessionWorld(createRedisStores(redis.client));
});
afterEach(() => w.stop());

const bySub = (sub: string) => w.keys.sessionsBySub(WORLD_ISSUER, sub);
const byIdpSid = (idpSid: string) => w.keys.sessionsByIdpSid(WORLD_ISSUER, idpSid);
const recordOf = (sub: string): SessionRecord => sampleRecord(Date.now(), { sub });

describe('SessionTerminator.end', () => {
  it('takes the record out, removes its index entries, tells the listeners, counts the kind', async () => {
    const record = recordOf('alice');
    const { sid } = await w.signIn(record);
    const other = await w.signIn(recordOf('alice'));
    const hash = w.keys.sessionHash(sid);

    expect(await w.terminator.end(sid, 'rp')).toEqual(record);

    expect(await redis.client.exists(w.keys.session(sid))).toBe(0);
    // The user's other session stays indexed; the IdP session's index held only this one.
    expect(await redis.client.hkeys(bySub('alice'))).toEqual([w.keys.sessionHash(other.sid)]);
    expect(await redis.client.exists(byIdpSid(record.idpSid!))).toBe(0);
    expect(w.listener.ended).toEqual([hash]);
    expect(await w.count('logouts', 'rp')).toBe(1);
    expect(await redis.client.exists(w.keys.session(other.sid))).toBe(1);
  });

  it('an id with no session: null, nothing counted, its listeners told all the same', async () => {
    const { sid } = await w.signIn(recordOf('alice'));
    await w.terminator.end(sid, 'refresh');
    expect(await w.terminator.end(sid, 'refresh')).toBeNull();
    expect(await w.count('logouts', 'refresh')).toBe(1);
    expect(w.listener.ended).toEqual([w.keys.sessionHash(sid), w.keys.sessionHash(sid)]);
  });
});

describe('SessionTerminator.endAll', () => {
  it('by sub: every session of the user, no one else’s; index removed; counted', async () => {
    const a1 = await w.signIn(recordOf('alice'));
    const a2 = await w.signIn(recordOf('alice'));
    const bob = await w.signIn(recordOf('bob'));

    expect(await w.terminator.endAll({ sub: 'alice' }, 'backchannel')).toBe(2);

    for (const { sid } of [a1, a2]) expect(await redis.client.exists(w.keys.session(sid))).toBe(0);
    expect(await redis.client.exists(w.keys.session(bob.sid))).toBe(1);
    expect(await redis.client.exists(bySub('alice'))).toBe(0);
    expect(await redis.client.hkeys(bySub('bob'))).toEqual([w.keys.sessionHash(bob.sid)]);
    expect([...w.listener.ended].sort()).toEqual(
      [w.keys.sessionHash(a1.sid), w.keys.sessionHash(a2.sid)].sort(),
    );
    expect(await w.count('logouts', 'backchannel')).toBe(2);
  });

  it('by idpSid: only the sessions of that IdP session', async () => {
    const one = await w.signIn(recordOf('alice'));
    const two = await w.signIn(recordOf('alice'));

    expect(await w.terminator.endAll({ idpSid: one.loaded.record.idpSid! }, 'backchannel')).toBe(1);

    expect(await redis.client.exists(w.keys.session(one.sid))).toBe(0);
    expect(await redis.client.exists(w.keys.session(two.sid))).toBe(1);
    expect(await redis.client.exists(byIdpSid(one.loaded.record.idpSid!))).toBe(0);
    expect(w.listener.ended).toEqual([w.keys.sessionHash(one.sid)]);
    expect(await w.count('logouts', 'backchannel')).toBe(1);
  });

  it('a match with no sessions ends nothing and counts nothing', async () => {
    expect(await w.terminator.endAll({ sub: 'nobody' }, 'backchannel')).toBe(0);
    expect(w.listener.ended).toEqual([]);
    expect(await w.count('logouts', 'backchannel')).toBe(0);
  });
});

describe('SessionTerminator.sweep', () => {
  it('tells the listeners about sessions gone from the store (expiry, another instance), and only those', async () => {
    const gone = await w.signIn(recordOf('alice'));
    const alive = await w.signIn(recordOf('bob'));
    await redis.client.del(w.keys.session(gone.sid));

    await w.terminator.sweep();

    expect(w.listener.ended).toEqual([w.keys.sessionHash(gone.sid)]);
    expect([...w.listener.held]).toEqual([w.keys.sessionHash(alive.sid)]);
    // Not a logout of ours: nothing counted.
    expect(await w.count('logouts', 'rp')).toBe(0);
  });

  it('a store outage is not a session end', async () => {
    const { sid } = await w.signIn(recordOf('alice'));
    // A client that gives up quickly, as the gateway's does (1.5 s), so the outage is short.
    const impatient = new Redis(redis.url, { commandTimeout: 200, maxRetriesPerRequest: 0 });
    impatient.on('error', () => {}); // the timeouts below are the point
    const onImpatient = sessionWorld(createRedisStores(impatient));
    onImpatient.listener.held.add(w.keys.sessionHash(sid));
    redis.pause();
    try {
      await onImpatient.terminator.sweep();
    } finally {
      redis.resume();
      onImpatient.stop();
      impatient.disconnect();
    }
    expect(onImpatient.listener.ended).toEqual([]);
    expect([...onImpatient.listener.held]).toEqual([w.keys.sessionHash(sid)]);
  });
});
