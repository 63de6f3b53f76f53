import type { AppendResult, NewMessage, ReceiptAdvance, ReceiptAdvanced } from '../../ports/store.js';

export interface CursorKey {
  readonly chatId: number;
  readonly userId: string;
}

/**
 * The statements that run for every message or every receipt flush, written per engine
 * without the query builder: one cached statement per step on SQLite, one round trip per call
 * on PostgreSQL. Everything else in the store goes through Kysely.
 */
export interface HotPath {
  appendMessages(batch: readonly NewMessage[], now: number): Promise<AppendResult[]>;
  advanceDelivered(entries: readonly ReceiptAdvance[]): Promise<ReceiptAdvanced[]>;
  deliveredCursors(keys: readonly CursorKey[]): Promise<ReceiptAdvance[]>;
}

/** The furthest cursor per (chat, user): a flush moves each cursor once. */
export function furthestPerCursor(entries: readonly ReceiptAdvance[]): ReceiptAdvance[] {
  const byChat = new Map<number, Map<string, ReceiptAdvance>>();
  for (const e of entries) {
    let byUser = byChat.get(e.chatId);
    if (!byUser) byChat.set(e.chatId, (byUser = new Map()));
    const seen = byUser.get(e.userId);
    if (!seen || seen.seq < e.seq) byUser.set(e.userId, e);
  }
  const out: ReceiptAdvance[] = [];
  for (const byUser of byChat.values()) for (const e of byUser.values()) out.push(e);
  return out;
}
