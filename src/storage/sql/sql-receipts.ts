import { sql, type Kysely, type Transaction } from 'kysely';
import type { ReceiptAdvance, ReceiptAdvanced } from '../../ports/store.js';
import type { Tables } from './tables.js';

type Db = Kysely<Tables> | Transaction<Tables>;

/** Rows per receipt statement: far below both engines' bound-parameter limits. */
const RECEIPT_CHUNK = 500;

/** Delivered/read cursors: forward only, and only real moves are reported. */
export class SqlReceipts {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly kind: 'sqlite' | 'postgres',
  ) {}


  async advanceDelivered(entries: readonly ReceiptAdvance[]): Promise<ReceiptAdvanced[]> {
    // Deliveries arrive by the thousand per second: each flush is two statements per chunk
    // (read the cursors, move those behind), not two per entry.
    const wanted = new Map<string, ReceiptAdvance>();
    for (const e of entries) {
      const key = `${e.chatId}\u0000${e.userId}`;
      const seen = wanted.get(key);
      if (!seen || seen.seq < e.seq) wanted.set(key, e);
    }
    if (wanted.size === 0) return [];
    const all = [...wanted.values()];
    return this.db.transaction().execute(async (trx) => {
      const moved: ReceiptAdvanced[] = [];
      for (let i = 0; i < all.length; i += RECEIPT_CHUNK) {
        const chunk = all.slice(i, i + RECEIPT_CHUNK);
        const pairs = sql.join(chunk.map((e) => sql`(cast(${e.chatId} as bigint), ${e.userId})`));
        const lock = this.kind === 'postgres' ? sql` for update` : sql``;
        const current = await sql<{ chat_id: number; user_id: string; delivered_seq: number }>`
          select chat_id, user_id, delivered_seq from members
          where left_at is null and (chat_id, user_id) in (values ${pairs})${lock}`.execute(trx);
        const previous = new Map(current.rows.map((r) => [`${Number(r.chat_id)}\u0000${r.user_id}`, Number(r.delivered_seq)]));
        const behind = chunk.filter((e) => {
          const p = previous.get(`${e.chatId}\u0000${e.userId}`);
          return p !== undefined && p < e.seq;
        });
        if (behind.length === 0) continue;
        const rows = sql.join(behind.map((e) => sql`(cast(${e.chatId} as bigint), ${e.userId}, cast(${e.seq} as bigint))`));
        await sql`
          update members set delivered_seq = v.column3
          from (values ${rows}) as v
          where members.chat_id = v.column1 and members.user_id = v.column2 and members.delivered_seq < v.column3`.execute(trx);
        for (const e of behind) moved.push({ ...e, previous: previous.get(`${e.chatId}\u0000${e.userId}`) ?? 0 });
      }
      return moved;
    });
  }

  async advanceRead(entry: ReceiptAdvance): Promise<ReceiptAdvanced | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const previous = await this.lockCursor(trx, entry, 'read_seq');
      if (previous === undefined || previous >= entry.seq) return undefined;
      // Read implies delivered: both cursors move together.
      await trx
        .updateTable('members')
        .set({ read_seq: entry.seq, delivered_seq: sql`case when delivered_seq < ${entry.seq} then ${entry.seq} else delivered_seq end` })
        .where('chat_id', '=', entry.chatId)
        .where('user_id', '=', entry.userId)
        .execute();
      return { ...entry, previous };
    });
  }

  private async lockCursor(trx: Db, entry: ReceiptAdvance, column: 'delivered_seq' | 'read_seq'): Promise<number | undefined> {
    let q = trx
      .selectFrom('members')
      .select(column)
      .where('chat_id', '=', entry.chatId)
      .where('user_id', '=', entry.userId)
      .where('left_at', 'is', null);
    // SQLite serializes writers already and has no row locks to take.
    if (this.kind === 'postgres') q = q.forUpdate();
    const row = await q.executeTakeFirst();
    return row ? Number(row[column]) : undefined;
  }
}
