import type { Message } from '../domain/message.js';
import type { Broker } from '../ports/broker.js';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import type { MembershipCache } from './membership-cache.js';

interface Noted {
  seq: number;
  /** seq → message id of messages pushed since the last announcement, for per-message receipts. */
  readonly ids: Map<number, number>;
}

type Cursors = Map<number, Map<string, number>>;

const MAX_IDS_PER_CURSOR = 1000;
/** Persist cycles a cursor stays in memory untouched (two generations of this many). */
const CURSOR_GENERATION_CYCLES = 30;

/**
 * Delivered cursors, kept in memory and written in bulk. Realtime calls `note` for every
 * message pushed to a user's connection (and history calls it for pages returned). Every
 * `flushMs` the noted deliveries are announced: each (chat, user) cursor moves once, and only
 * messages past the cursor this instance knows are announced, so a page read twice is not
 * reported twice. A cursor this instance has not seen yet is read from the store once (one
 * query per announcement, for the new ones only). Every `persistMs` the moved cursors are
 * written in one statement: they are advisory (unread counts and ✓ marks), so a crash loses at
 * most that window of cursor moves, never a message. A user connected to two instances at
 * once may see a message announced delivered by both.
 */
export class DeliveryTracker {
  /** chat → user → noted; nested maps so a delivery allocates no key string. */
  private pending = new Map<number, Map<string, Noted>>();
  /** What this instance knows of each cursor; untouched ones age out through `older`. */
  private known: Cursors = new Map();
  private older: Cursors = new Map();
  /** Cursors moved since the last write. */
  private dirty: Cursors = new Map();
  private cycles = 0;
  private announceTimer: NodeJS.Timeout | null = null;
  private persistTimer: NodeJS.Timeout | null = null;
  private announcing: Promise<void> | null = null;
  private persisting: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly broker: Broker,
    private readonly members: MembershipCache,
    private readonly flushMs: number,
    private readonly persistMs: number,
    private readonly log: Logger,
  ) {}

  /** A message reached `userId` (pushed live or returned in a page); one's own are no delivery. */
  noteMessage(userId: string, message: Pick<Message, 'senderId' | 'chatId' | 'seq' | 'id'>): void {
    if (message.senderId !== userId) this.note(userId, message.chatId, message.seq, message.id);
  }

  private note(userId: string, chatId: number, seq: number, messageId: number): void {
    let byUser = this.pending.get(chatId);
    if (!byUser) this.pending.set(chatId, (byUser = new Map()));
    let noted = byUser.get(userId);
    if (!noted) byUser.set(userId, (noted = { seq, ids: new Map() }));
    if (seq > noted.seq) noted.seq = seq;
    if (noted.ids.size < MAX_IDS_PER_CURSOR) noted.ids.set(seq, messageId);
    if (!this.announceTimer) {
      this.announceTimer = setTimeout(() => void this.announce(), this.flushMs);
      this.announceTimer.unref();
    }
  }

  /** Announces and writes everything noted so far (graceful shutdown, tests). */
  async flush(): Promise<void> {
    await this.announce();
    await this.persist();
  }

  private async announce(): Promise<void> {
    if (this.announceTimer) {
      clearTimeout(this.announceTimer);
      this.announceTimer = null;
    }
    while (this.announcing) await this.announcing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.announcing = this.announceBatch(batch).finally(() => {
      this.announcing = null;
    });
    await this.announcing;
  }

  private async announceBatch(batch: Map<number, Map<string, Noted>>): Promise<void> {
    try {
      await this.loadUnknown(batch);
      for (const [chatId, byUser] of batch) {
        const entries: { userId: string; messageId: number; seq: number }[] = [];
        for (const [userId, noted] of byUser) {
          const previous = this.cursor(chatId, userId);
          // Unknown after loading: not a member (any more); nothing to announce or store.
          if (previous === undefined || noted.seq <= previous) continue;
          for (const [seq, messageId] of [...noted.ids].sort((a, b) => a[0] - b[0])) {
            if (seq > previous && seq <= noted.seq) entries.push({ userId, messageId, seq });
          }
          setCursor(this.known, chatId, userId, noted.seq);
          setCursor(this.dirty, chatId, userId, noted.seq);
        }
        if (entries.length === 0) continue;
        const membership = await this.members.get(chatId);
        if (!membership) continue;
        this.broker.publish({ type: 'receipt.delivered', chatId, memberIds: membership.memberIds, entries });
      }
    } catch (err) {
      // Cursors are advisory: a failed announcement is retried by the next delivery, nothing is lost.
      this.log.warn({ err: (err as Error).message }, 'delivery receipts announcement failed');
    }
    if (this.dirty.size > 0 && !this.persistTimer) {
      this.persistTimer = setTimeout(() => void this.persist(), this.persistMs);
      this.persistTimer.unref();
    }
  }

  private async loadUnknown(batch: Map<number, Map<string, Noted>>): Promise<void> {
    const keys: { chatId: number; userId: string }[] = [];
    for (const [chatId, byUser] of batch) for (const userId of byUser.keys()) if (this.cursor(chatId, userId) === undefined) keys.push({ chatId, userId });
    if (keys.length === 0) return;
    for (const c of await this.store.deliveredCursors(keys)) setCursor(this.known, c.chatId, c.userId, c.seq);
  }

  /** The cursor as this instance knows it; a hit in the older generation is kept alive. */
  private cursor(chatId: number, userId: string): number | undefined {
    const seq = this.known.get(chatId)?.get(userId);
    if (seq !== undefined) return seq;
    const old = this.older.get(chatId)?.get(userId);
    if (old !== undefined) setCursor(this.known, chatId, userId, old);
    return old;
  }

  private async persist(): Promise<void> {
    if (this.persistTimer) {
      clearTimeout(this.persistTimer);
      this.persistTimer = null;
    }
    while (this.persisting) await this.persisting;
    if (++this.cycles >= CURSOR_GENERATION_CYCLES) {
      this.cycles = 0;
      this.older = this.known;
      this.known = new Map();
    }
    if (this.dirty.size === 0) return;
    const batch = this.dirty;
    this.dirty = new Map();
    const entries: { chatId: number; userId: string; seq: number }[] = [];
    for (const [chatId, byUser] of batch) for (const [userId, seq] of byUser) entries.push({ chatId, userId, seq });
    this.persisting = this.store
      .advanceDelivered(entries)
      .then(
        () => undefined,
        (err: unknown) => {
          // Kept for the next write (moves made meanwhile win: cursors only go forward).
          for (const e of entries) if ((this.dirty.get(e.chatId)?.get(e.userId) ?? 0) < e.seq) setCursor(this.dirty, e.chatId, e.userId, e.seq);
          this.log.warn({ err: (err as Error).message }, 'delivery cursors write failed');
        },
      )
      .finally(() => {
        this.persisting = null;
      });
    await this.persisting;
  }
}

function setCursor(cursors: Cursors, chatId: number, userId: string, seq: number): void {
  let byUser = cursors.get(chatId);
  if (!byUser) cursors.set(chatId, (byUser = new Map()));
  byUser.set(userId, seq);
}
