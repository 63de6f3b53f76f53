import { sql, type Kysely, type Transaction } from 'kysely';
import type { ReceiptAdvance, ReceiptAdvanced } from '../../ports/store.js';
import type { Tables } from './tables.js';

type Db = Kysely<Tables> | Transaction<Tables>;

/** Read cursors: forward only, and only real moves are reported (delivered ones are each engine's `HotPath`). */
export class SqlReceipts {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly kind: 'sqlite' | 'postgres',
  ) {}

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
