import type { Duplex } from 'node:stream';
import type { KvStore } from '../session/kv-store.js';
import type { StoreKeys } from '../session/keys.js';

/**
 * Open WebSockets by session, so they close when their session ends: at once for a logout or a failed
 * refresh in this instance, and within `sweepMs` for an end seen only in the store (expiry, logout on
 * another instance).
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
    let sockets = this.bySession.get(sid);
    if (!sockets) this.bySession.set(sid, (sockets = new Set()));
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0 && this.bySession.get(sid) === sockets) this.bySession.delete(sid);
    });
  }

  get count(): number {
    let n = 0;
    for (const set of this.bySession.values()) n += set.size;
    return n;
  }

  closeSession(sid: string): void {
    for (const socket of this.bySession.get(sid) ?? []) socket.destroy();
    this.bySession.delete(sid);
  }

  closeAll(): void {
    for (const sid of [...this.bySession.keys()]) this.closeSession(sid);
    clearInterval(this.sweeper);
  }

  private async sweep(): Promise<void> {
    for (const sid of [...this.bySession.keys()]) {
      // A store outage is not a session end: keep the sockets and look again next time.
      const alive = await this.kv.exists(this.keys.session(sid)).catch(() => true);
      if (!alive) this.closeSession(sid);
    }
  }
}
