import type { ExpiredHandler, PresenceStore } from '../ports/presence-store.js';

/** Presence for a single process: connection sets per user, nothing expires (nothing can crash apart). */
export class MemoryPresenceStore implements PresenceStore {
  private readonly connections = new Map<string, Set<string>>();
  private readonly seen = new Map<string, number>();

  async connect(userId: string, connectionId: string): Promise<{ becameOnline: boolean }> {
    let set = this.connections.get(userId);
    if (!set) {
      set = new Set();
      this.connections.set(userId, set);
    }
    const becameOnline = set.size === 0;
    set.add(connectionId);
    return { becameOnline };
  }

  async disconnect(userId: string, connectionId: string, now: number): Promise<{ becameOffline: boolean; lastSeen: number }> {
    const set = this.connections.get(userId);
    if (!set || !set.delete(connectionId)) return { becameOffline: false, lastSeen: this.seen.get(userId) ?? now };
    if (set.size > 0) return { becameOffline: false, lastSeen: now };
    this.connections.delete(userId);
    this.seen.set(userId, now);
    return { becameOffline: true, lastSeen: now };
  }

  async isOnline(userIds: readonly string[]): Promise<Set<string>> {
    return new Set(userIds.filter((id) => (this.connections.get(id)?.size ?? 0) > 0));
  }

  async lastSeen(userId: string): Promise<number | null> {
    return this.seen.get(userId) ?? null;
  }

  /** Never fires: in one process, every connection closes through `disconnect`. */
  onExpired(_handler: ExpiredHandler): void {}

  async close(): Promise<void> {}
}
