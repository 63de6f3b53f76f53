/** A user whose leases all expired (its instance crashed) or were released at shutdown. */
export type ExpiredHandler = (userId: string, lastSeen: number) => void | Promise<void>;

/**
 * Who is online, across every dialect and instance.
 *
 * Guarantees: a user is online while at least one connection is registered for it; `connect`
 * reports `becameOnline` exactly for the first connection and `disconnect` reports
 * `becameOffline` exactly for the last one. Entries of an instance that stops renewing them
 * expire (Redis: within 30 s), so a crashed instance's users go offline by themselves.
 */
export interface PresenceStore {
  connect(userId: string, connectionId: string, now: number): Promise<{ becameOnline: boolean }>;
  disconnect(userId: string, connectionId: string, now: number): Promise<{ becameOffline: boolean; lastSeen: number }>;
  isOnline(userIds: readonly string[]): Promise<Set<string>>;
  lastSeen(userId: string): Promise<number | null>;
  /**
   * Users that went offline without a `disconnect` (their instance crashed or shut down) are
   * reported here, each by exactly one instance, so the core can announce them offline.
   * Optional: a single-process store never loses connections that way.
   */
  onExpired?(handler: ExpiredHandler): void;
  close(): Promise<void>;
}
