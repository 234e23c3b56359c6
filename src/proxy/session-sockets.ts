import type { Duplex } from 'node:stream';
import type { SessionEndListener } from '../session/session-terminator.js';

/** A WebSocket close frame, server to client: code 1001 "going away". */
const GOING_AWAY = Buffer.from([0x88, 0x02, 0x03, 0xe9]);

/**
 * Open WebSockets by session (keyed by the hash of the session id, as the store is), so they close when
 * their session ends. The session layer's terminator (session/session-terminator.ts) says when: at once
 * for a logout, back-channel logout or failed refresh in this instance, and within its sweep for an end
 * seen only in the store (expiry, logout on another instance).
 *
 * It stays in proxy/ because it speaks WebSocket (close frames on raw sockets); the session layer only
 * knows it as a SessionEndListener.
 */
export class SessionSockets implements SessionEndListener {
  private readonly bySession = new Map<string, Set<Duplex>>();

  constructor(private readonly sessionHash: (sid: string) => string) {}

  add(sid: string, socket: Duplex): void {
    const hash = this.sessionHash(sid);
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

  sessionsHeld(): Iterable<string> {
    return this.bySession.keys();
  }

  /** Closes the session's sockets with a "going away" close frame. */
  sessionEnded(sessionHash: string): void {
    for (const socket of this.bySession.get(sessionHash) ?? []) {
      socket.end(GOING_AWAY);
      // A client that does not answer the close frame is cut off.
      setTimeout(() => socket.destroy(), 1_000).unref();
    }
    this.bySession.delete(sessionHash);
  }

  closeAll(): void {
    for (const hash of [...this.bySession.keys()]) this.sessionEnded(hash);
  }
}
