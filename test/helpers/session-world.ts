/**
 * The session layer on its own, for unit tests of refresh and session ending: the real stores (in
 * memory, or on a Redis you pass), records, index and terminator, a listener standing in for the
 * proxy's WebSockets, real metrics, and captured logs.
 *
 *   const w = sessionWorld();                       // or sessionWorld(createRedisStores(redis.client))
 *   const { sid, loaded } = await w.signIn(sampleRecord(Date.now()));
 *   await w.terminator.end(sid, 'rp');
 *   expect(w.listener.ended).toEqual([w.keys.sessionHash(sid)]);
 *   w.stop();
 */
import { randomBytes } from 'node:crypto';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { StoreKeys } from '../../src/session/store/keys.js';
import { createMemoryStores, type Stores } from '../../src/session/store/stores.js';
import type { SessionRecord } from '../../src/session/records/record.js';
import { SessionIndex } from '../../src/session/backchannel-index.js';
import { SessionRecords, type LoadedSession } from '../../src/session/records/session-records.js';
import { SessionTerminator, type SessionEndListener } from '../../src/session/session-terminator.js';
import { Vault } from '../../src/session/vault.js';
import { captureLogs, type CapturedLogs } from './logs.js';

export const WORLD_ISSUER = 'https://idp.example.com';
const MAX_AGE_MS = 12 * 3600_000;

/** Stands in for the proxy's SessionSockets: what it holds, and what it was told ended. */
export class RecordingListener implements SessionEndListener {
  readonly held = new Set<string>();
  readonly ended: string[] = [];
  sessionEnded(sessionHash: string): void {
    this.ended.push(sessionHash);
    this.held.delete(sessionHash);
  }
  sessionsHeld(): Iterable<string> {
    return this.held;
  }
}

export interface SessionWorld {
  stores: Stores;
  keys: StoreKeys;
  vault: Vault;
  records: SessionRecords;
  index: SessionIndex;
  terminator: SessionTerminator;
  listener: RecordingListener;
  metrics: Metrics;
  logs: CapturedLogs;
  logger: ReturnType<typeof createLogger>;
  /** Stores and indexes a session under a new id, as the callback does. */
  signIn(record: SessionRecord): Promise<{ sid: string; loaded: LoadedSession }>;
  /** The current value of a counter series (0 when never counted). */
  count(counter: 'logouts' | 'refreshes', label: string): Promise<number>;
  stop(): void;
}

export function sessionWorld(stores: Stores = createMemoryStores(), prefix = 'bff:'): SessionWorld {
  const keys = new StoreKeys(prefix);
  const vault = new Vault([randomBytes(32)]);
  const records = new SessionRecords(stores.kv, vault, keys);
  const index = new SessionIndex(stores, keys, WORLD_ISSUER, MAX_AGE_MS);
  const listener = new RecordingListener();
  const metrics = new Metrics(() => 0);
  const logs = captureLogs();
  const logger = createLogger('debug', logs.stream);
  const terminator = new SessionTerminator(
    { records, index, kv: stores.kv, keys, metrics, logger },
    [listener],
    // The sweep is driven by the tests (terminator.sweep()).
    3_600_000,
  );
  return {
    stores,
    keys,
    vault,
    records,
    index,
    terminator,
    listener,
    metrics,
    logs,
    logger,
    async signIn(record) {
      const sid = randomBytes(24).toString('base64url');
      await records.write(sid, record);
      await index.add(sid, record);
      listener.held.add(keys.sessionHash(sid));
      const loaded = await records.read(sid);
      if (!loaded) throw new Error('the session just written cannot be read');
      return { sid, loaded };
    },
    async count(counter, label) {
      // The two counters' one label: `kind` for logouts, `outcome` for refreshes.
      const series = (await metrics[counter].get()).values as Array<{
        labels: Record<string, string | number | undefined>;
        value: number;
      }>;
      const labelName = counter === 'logouts' ? 'kind' : 'outcome';
      return series.find((s) => s.labels[labelName] === label)?.value ?? 0;
    },
    stop: () => terminator.stop(),
  };
}
