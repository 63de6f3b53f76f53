/**
 * Typing indicators expire by themselves: a `true` not refreshed within the TTL is followed
 * by a `false` from the server. One timer per (chat, user) on the instance that got the event.
 */
export class TypingTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

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

  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
