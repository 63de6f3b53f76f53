import type { Broker } from '../ports/broker.js';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import type { MembershipCache } from './membership-cache.js';

interface Noted {
  seq: number;
  /** seq → message id of messages pushed since the last flush, for per-message receipts. */
  readonly ids: Map<number, number>;
}

const MAX_IDS_PER_CURSOR = 1000;

/**
 * Delivered cursors. Realtime calls `note` for every message pushed to a user's connection
 * (and history calls it for pages returned). Writes are batched: every flush moves each
 * (chat, user) cursor once, and only moves that really advanced the stored cursor are
 * announced — so a user on two instances is not reported twice.
 */
export class DeliveryTracker {
  /** chat → user → noted; nested maps so a delivery allocates no key string. */
  private pending = new Map<number, Map<string, Noted>>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly broker: Broker,
    private readonly members: MembershipCache,
    private readonly flushMs: number,
    private readonly log: Logger,
  ) {}

  note(userId: string, chatId: number, seq: number, messageId: number): void {
    let byUser = this.pending.get(chatId);
    if (!byUser) this.pending.set(chatId, (byUser = new Map()));
    let noted = byUser.get(userId);
    if (!noted) byUser.set(userId, (noted = { seq, ids: new Map() }));
    if (seq > noted.seq) noted.seq = seq;
    if (noted.ids.size < MAX_IDS_PER_CURSOR) noted.ids.set(seq, messageId);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const entries: { chatId: number; userId: string; noted: Noted }[] = [];
    for (const [chatId, byUser] of batch) for (const [userId, noted] of byUser) entries.push({ chatId, userId, noted });
    this.flushing = this.write(entries).finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  private async write(entries: { chatId: number; userId: string; noted: Noted }[]): Promise<void> {
    try {
      const moved = await this.store.advanceDelivered(entries.map((e) => ({ chatId: e.chatId, userId: e.userId, seq: e.noted.seq })));
      const byChat = new Map<number, { userId: string; messageId: number; seq: number }[]>();
      const noted = new Map(entries.map((e) => [`${e.chatId}\u0000${e.userId}`, e.noted]));
      for (const m of moved) {
        const ids = noted.get(`${m.chatId}\u0000${m.userId}`)?.ids;
        if (!ids) continue;
        let list = byChat.get(m.chatId);
        if (!list) byChat.set(m.chatId, (list = []));
        for (const [seq, messageId] of [...ids].sort((a, b) => a[0] - b[0])) {
          if (seq > m.previous && seq <= m.seq) list.push({ userId: m.userId, messageId, seq });
        }
      }
      for (const [chatId, list] of byChat) {
        if (list.length === 0) continue;
        const membership = await this.members.get(chatId);
        if (!membership) continue;
        this.broker.publish({ type: 'receipt.delivered', chatId, memberIds: membership.memberIds, entries: list });
      }
    } catch (err) {
      // Cursors are advisory: a failed flush is retried by the next delivery, nothing is lost.
      this.log.warn({ err: (err as Error).message }, 'delivery receipts flush failed');
    }
  }
}
