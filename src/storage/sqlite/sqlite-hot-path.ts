import type Database from 'better-sqlite3';
import type { Kysely, Selectable } from 'kysely';
import type { AppendResult, NewMessage, ReceiptAdvance, ReceiptAdvanced } from '../../ports/store.js';
import { AppendPlan } from '../sql/append-plan.js';
import { furthestPerCursor, type CursorKey, type HotPath } from '../sql/hot-path.js';
import { toMessage } from '../sql/row-mappers.js';
import type { MessagesTable, Tables } from '../sql/tables.js';

/**
 * better-sqlite3 directly: each step is a statement prepared once, and a batch is one
 * synchronous transaction (no await between BEGIN and COMMIT, no SQL built per call). The
 * single connection is shared with Kysely, whose transactions span awaits; every call here
 * takes Kysely's connection lock first, so it never lands inside one of them.
 */
export class SqliteHotPath implements HotPath {
  private readonly findByClientId: Database.Statement<[number, string, string], Selectable<MessagesTable>>;
  private readonly bumpSeq: Database.Statement<[number, number, number], { last_seq: number }>;
  private readonly insert: Database.Statement<[number, string, string, number, string, number | null, string | null, number]>;
  private readonly cursor: Database.Statement<[number, string], { delivered_seq: number }>;
  private readonly moveCursor: Database.Statement<[number, number, string, number]>;
  private readonly appendTx: (plan: AppendPlan, now: number) => void;
  private readonly advanceTx: (entries: readonly ReceiptAdvance[]) => ReceiptAdvanced[];

  constructor(
    private readonly database: Database.Database,
    private readonly kysely: Kysely<Tables>,
  ) {
    this.findByClientId = database.prepare('select * from messages where chat_id = ? and sender_id = ? and client_msg_id = ?');
    this.bumpSeq = database.prepare('update chats set last_seq = last_seq + ?, updated_at = ? where id = ? returning last_seq');
    this.insert = database.prepare(
      'insert into messages (chat_id, sender_id, text, seq, kind, reply_to, client_msg_id, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.cursor = database.prepare('select delivered_seq from members where chat_id = ? and user_id = ? and left_at is null');
    this.moveCursor = database.prepare('update members set delivered_seq = ? where chat_id = ? and user_id = ? and delivered_seq < ?');
    this.appendTx = database.transaction((plan: AppendPlan, now: number) => this.appendIn(plan, now));
    this.advanceTx = database.transaction((entries: readonly ReceiptAdvance[]) => this.advanceIn(entries));
  }

  appendMessages(batch: readonly NewMessage[], now: number): Promise<AppendResult[]> {
    if (batch.length === 0) return Promise.resolve([]);
    return this.exclusive(() => {
      const plan = new AppendPlan(batch, now);
      this.appendTx(plan, now);
      return plan.finish();
    });
  }

  advanceDelivered(entries: readonly ReceiptAdvance[]): Promise<ReceiptAdvanced[]> {
    const all = furthestPerCursor(entries);
    if (all.length === 0) return Promise.resolve([]);
    return this.exclusive(() => this.advanceTx(all));
  }

  deliveredCursors(keys: readonly CursorKey[]): Promise<ReceiptAdvance[]> {
    return this.exclusive(() => {
      const out: ReceiptAdvance[] = [];
      for (const k of keys) {
        const row = this.cursor.get(k.chatId, k.userId);
        if (row) out.push({ chatId: k.chatId, userId: k.userId, seq: Number(row.delivered_seq) });
      }
      return out;
    });
  }

  private exclusive<T>(work: () => T): Promise<T> {
    return this.kysely.connection().execute(async () => work());
  }

  private appendIn(plan: AppendPlan, now: number): void {
    const fresh: number[] = [];
    const counts = new Map<number, number>();
    plan.unique.forEach((m, index) => {
      if (m.clientMsgId !== null) {
        const stored = this.findByClientId.get(m.chatId, m.senderId, m.clientMsgId);
        if (stored) {
          plan.existing(index, toMessage(stored));
          return;
        }
      }
      fresh.push(index);
      counts.set(m.chatId, (counts.get(m.chatId) ?? 0) + 1);
    });
    const next = new Map<number, number>();
    for (const [chatId, n] of counts) {
      const row = this.bumpSeq.get(n, now, chatId);
      if (!row) throw new Error('a message names a chat that does not exist');
      next.set(chatId, Number(row.last_seq) - n + 1);
    }
    for (const index of fresh) {
      const m = plan.unique[index]!;
      const seq = next.get(m.chatId)!;
      next.set(m.chatId, seq + 1);
      const { lastInsertRowid } = this.insert.run(m.chatId, m.senderId, m.text, seq, m.kind, m.replyTo, m.clientMsgId, now);
      plan.inserted(index, Number(lastInsertRowid), seq);
    }
  }

  private advanceIn(entries: readonly ReceiptAdvance[]): ReceiptAdvanced[] {
    const moved: ReceiptAdvanced[] = [];
    for (const e of entries) {
      const row = this.cursor.get(e.chatId, e.userId);
      if (!row || Number(row.delivered_seq) >= e.seq) continue;
      this.moveCursor.run(e.seq, e.chatId, e.userId, e.seq);
      moved.push({ ...e, previous: Number(row.delivered_seq) });
    }
    return moved;
  }
}
