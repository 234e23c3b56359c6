import session from 'express-session';
import type { SessionRecords } from '../records/session-records.js';

type Callback<T> = (err?: unknown, value?: T) => void;

/**
 * express-session's store, over the same records the /api hot path reads (session-records.ts): the key
 * is a hash of the session id, the value is sealed with a key derived from the session id, and only the
 * gateway's record is stored.
 *
 * express-session's own `cookie` object is not stored: the session cookie has no Expires or Max-Age, and
 * express-session sends a loaded session's cookie again only for rolling or expiring cookies, neither of
 * which the gateway uses; a new session gets its cookie from the middleware's options. A loaded session
 * therefore gets express-session's defaults with no expiry, as a stored one had.
 * No `touch`: sliding is done lazily by the gateway (session/records/record.ts), so an unchanged session costs
 * no write at all. Store failures arrive as SessionStoreUnavailableError from the KvStore.
 */
export class SealedSessionStore extends session.Store {
  constructor(private readonly records: SessionRecords) {
    super();
  }

  override get(sid: string, callback: Callback<session.SessionData | null>): void {
    this.records.read(sid).then(
      // A fresh object each time: express-session replaces its `cookie` with a Cookie instance.
      (loaded) => callback(undefined, loaded ? { cookie: noExpiry(), bff: loaded.record } : null),
      (err: unknown) => callback(err),
    );
  }

  override set(sid: string, data: session.SessionData, callback?: Callback<void>): void {
    if (!data.bff) return callback?.(new Error('refusing to store a session without a record'));
    this.records.write(sid, data.bff).then(
      () => callback?.(),
      (err: unknown) => callback?.(err),
    );
  }

  override destroy(sid: string, callback?: Callback<void>): void {
    this.records.delete(sid).then(
      () => callback?.(),
      (err: unknown) => callback?.(err),
    );
  }
}

function noExpiry(): session.Cookie {
  // express-session turns this into a Cookie (Store#createSession); its type asks for the class itself.
  return { originalMaxAge: null, expires: null } as unknown as session.Cookie;
}
