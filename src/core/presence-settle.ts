interface Pending {
  /** The state announced before this change (presence alternates, so the opposite of `online`). */
  readonly before: boolean;
  readonly online: boolean;
  readonly lastSeen: number | null;
  readonly timer: NodeJS.Timeout;
  readonly announce: () => Promise<void>;
}

/**
 * Presence of users in large groups, announced after a settle time: a change waits `settleMs`
 * and goes out then; a change back within it (offline and online again, a reconnect) cancels
 * both, so a reconnect storm announces nothing to the big groups for the users who came back.
 * Presence alternates per user (the presence store reports only first/last connections), so a
 * second change while one waits is always the way back.
 */
export class PresenceSettle {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly settleMs: number) {}

  schedule(userId: string, online: boolean, lastSeen: number | null, announce: (online: boolean, lastSeen: number | null) => Promise<void>): void {
    const waiting = this.pending.get(userId);
    if (waiting) {
      clearTimeout(waiting.timer);
      this.pending.delete(userId);
      if (waiting.before === online) return;
    }
    const run = (): Promise<void> => {
      this.pending.delete(userId);
      return announce(online, lastSeen);
    };
    const timer = setTimeout(() => void run().catch(() => {}), this.settleMs);
    timer.unref();
    this.pending.set(userId, { before: !online, online, lastSeen, timer, announce: run });
  }

  /** Users whose change is still waiting (tests, metrics). */
  get size(): number {
    return this.pending.size;
  }

  /** Graceful shutdown: announce what waits now. */
  async flush(): Promise<void> {
    const waiting = [...this.pending.values()];
    for (const p of waiting) clearTimeout(p.timer);
    await Promise.allSettled(waiting.map((p) => p.announce()));
  }
}
