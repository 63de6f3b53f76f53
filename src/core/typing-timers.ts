/** How typing is thinned out in a large group (core settings `largeGroup*`). */
export interface LargeGroupTypingLimits {
  /** A user's `true` is announced again only after this long. */
  readonly everyMs: number;
  /** New typists announced per chat per second. */
  readonly typistsPerSecond: number;
}

/**
 * Typing indicators expire by themselves: a `true` not refreshed within the TTL is followed
 * by a `false` from the server. One timer per (chat, user) on the instance that got the event.
 *
 * In large groups (more members than `largeGroupSize`) every keystroke-driven `true` would
 * reach hundreds of connections, so there a user's `true` is announced at most once per
 * `everyMs` (refreshes in between only keep it alive), at most `typistsPerSecond` new typists
 * are announced per chat per second, and a `false` is announced only for a `true` that was.
 */
export class TypingTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Large groups only: chat → user → when its `true` was last announced. */
  private readonly shown = new Map<number, Map<string, number>>();
  /** Large groups only: chat → when its latest new typists were announced (the last second's). */
  private readonly starts = new Map<number, number[]>();

  constructor(private readonly ttlMs: number) {}

  /** (Re)arms the expiry; `onExpire` runs if no refresh or stop comes in time. */
  start(chatId: number, userId: string, onExpire: () => void): void {
    const key = `${chatId}\u0000${userId}`;
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      onExpire();
    }, this.ttlMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Returns true when an indicator was active. */
  stop(chatId: number, userId: string): boolean {
    const key = `${chatId}\u0000${userId}`;
    const existing = this.timers.get(key);
    if (!existing) return false;
    clearTimeout(existing);
    this.timers.delete(key);
    return true;
  }

  /** Large group: whether this `true` is announced (else it only refreshes the expiry). */
  admitLargeStart(chatId: number, userId: string, now: number, limits: LargeGroupTypingLimits): boolean {
    let byUser = this.shown.get(chatId);
    const at = byUser?.get(userId);
    if (at !== undefined && now - at < limits.everyMs) return false;
    if (at === undefined) {
      const recent = (this.starts.get(chatId) ?? []).filter((t) => now - t < 1000);
      if (recent.length >= limits.typistsPerSecond) return false;
      recent.push(now);
      this.starts.set(chatId, recent);
    }
    if (!byUser) this.shown.set(chatId, (byUser = new Map()));
    byUser.set(userId, now);
    return true;
  }

  /** Large group: the user stopped (or expired); true when its `true` had been announced, so its `false` is too. */
  endLarge(chatId: number, userId: string): boolean {
    const byUser = this.shown.get(chatId);
    if (!byUser?.delete(userId)) return false;
    if (byUser.size === 0) {
      this.shown.delete(chatId);
      this.starts.delete(chatId);
    }
    return true;
  }

  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.shown.clear();
    this.starts.clear();
  }
}
