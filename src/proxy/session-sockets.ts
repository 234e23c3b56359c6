import type { Duplex } from 'node:stream';
import type { KvStore } from '../session/kv-store.js';
import type { StoreKeys } from '../session/keys.js';

/** A WebSocket close frame, server to client: code 1001 "going away". */
const GOING_AWAY = Buffer.from([0x88, 0x02, 0x03, 0xe9]);

/**
 * Open WebSockets by session (keyed by the hash of the session id, as the store is), so they close when
 * their session ends: at once for a logout, back-channel logout or failed refresh in this instance, and
 * within `sweepMs` for an end seen only in the store (expiry, logout on another instance).
 */
export class SessionSockets {
  private readonly bySession = new Map<string, Set<Duplex>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly kv: KvStore,
    private readonly keys: StoreKeys,
    sweepMs = 10_000,
  ) {
    this.sweeper = setInterval(() => void this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  add(sid: string, socket: Duplex): void {
    const hash = this.keys.sessionHash(sid);
    let sockets = this.bySession.get(hash);
    if (!sockets) this.bySession.set(hash, (sockets = new Set()));
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0 && this.bySession.get(hash) === sockets) this.bySession.delete(hash);
    });
  }

  get count(): number {
    let n = 0;
    for (const set of this.bySession.values()) n += set.size;
    return n;
  }

  /** Closes the session's sockets with a "going away" close frame. */
  close(sessionHash: string): void {
    for (const socket of this.bySession.get(sessionHash) ?? []) {
      socket.end(GOING_AWAY);
      // A client that does not answer the close frame is cut off.
      setTimeout(() => socket.destroy(), 1_000).unref();
    }
    this.bySession.delete(sessionHash);
  }

  closeAll(): void {
    for (const hash of [...this.bySession.keys()]) this.close(hash);
    clearInterval(this.sweeper);
  }

  private async sweep(): Promise<void> {
    for (const hash of [...this.bySession.keys()]) {
      // A store outage is not a session end: keep the sockets and look again next time.
      const alive = await this.kv.exists(this.keys.sessionByHash(hash)).catch(() => true);
      if (!alive) this.close(hash);
    }
  }
}
