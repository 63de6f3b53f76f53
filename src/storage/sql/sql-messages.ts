import { sql, type Kysely, type Transaction } from 'kysely';
import type { Message } from '../../domain/message.js';
import type { AppendResult, HistoryQuery, NewMessage } from '../../ports/store.js';
import { toMessage } from './row-mappers.js';
import type { Tables } from './tables.js';

/** Messages: the seq-allocating append and the history reads. */
export class SqlMessages {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly kind: 'sqlite' | 'postgres',
  ) {}

  /**
   * Moves each chat's `last_seq` by its count and returns each chat's first new seq. A chat
   * that does not exist fails the whole batch. SQLite (one writer, no round trips) runs one
   * small cached UPDATE per chat. PostgreSQL locks the chat rows in ascending id order — two
   * writers never wait on each other in a cycle, and the row lock serializes writers per chat —
   * then moves them all in one statement: two round trips whatever the batch holds.
   */
  private async allocateSeqs(trx: Transaction<Tables>, counts: ReadonlyMap<number, number>, now: number): Promise<Map<number, number>> {
    const chatIds = [...counts.keys()].sort((x, y) => x - y);
    const first = new Map<number, number>();
    if (chatIds.length === 0) return first;
    if (this.kind === 'sqlite' || chatIds.length === 1) {
      for (const chatId of chatIds) {
        const n = counts.get(chatId) ?? 0;
        const row = await trx
          .updateTable('chats')
          .set({ last_seq: sql`last_seq + ${n}`, updated_at: now })
          .where('id', '=', chatId)
          .returning('last_seq')
          .executeTakeFirstOrThrow();
        first.set(chatId, Number(row.last_seq) - n + 1);
      }
      return first;
    }
    await sql`select id from chats where id in (${sql.join(chatIds)}) order by id for update`.execute(trx);
    const rows = sql.join(chatIds.map((id) => sql`(cast(${id} as bigint), cast(${counts.get(id) ?? 0} as bigint))`));
    const updated = await sql<{ id: number; last_seq: number }>`
      update chats set last_seq = chats.last_seq + v.column2, updated_at = cast(${now} as bigint)
      from (values ${rows}) as v
      where chats.id = v.column1
      returning chats.id, chats.last_seq`.execute(trx);
    if (updated.rows.length !== chatIds.length) throw new Error('a message names a chat that does not exist');
    for (const row of updated.rows) first.set(Number(row.id), Number(row.last_seq) - (counts.get(Number(row.id)) ?? 0) + 1);
    return first;
  }


  async appendMessages(batch: readonly NewMessage[], now: number): Promise<AppendResult[]> {
    if (batch.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      const results: (AppendResult | undefined)[] = new Array(batch.length);
      const toInsert: { index: number; input: NewMessage }[] = [];
      // A retry that appears twice in one batch resolves to the first copy once stored.
      const duplicateOf = new Map<number, number>();
      const firstByClientId = new Map<string, number>();
      for (const [index, input] of batch.entries()) {
        if (input.clientMsgId !== null) {
          const key = JSON.stringify([input.chatId, input.senderId, input.clientMsgId]);
          const first = firstByClientId.get(key);
          if (first !== undefined) {
            duplicateOf.set(index, first);
            continue;
          }
          firstByClientId.set(key, index);
          const stored = await trx
            .selectFrom('messages')
            .selectAll()
            .where('chat_id', '=', input.chatId)
            .where('sender_id', '=', input.senderId)
            .where('client_msg_id', '=', input.clientMsgId)
            .executeTakeFirst();
          if (stored) {
            results[index] = { message: toMessage(stored), created: false };
            continue;
          }
        }
        toInsert.push({ index, input });
      }

      const counts = new Map<number, number>();
      for (const { input } of toInsert) counts.set(input.chatId, (counts.get(input.chatId) ?? 0) + 1);
      const nextSeq = await this.allocateSeqs(trx, counts, now);
      if (toInsert.length > 0) {
        const rows = toInsert.map(({ input }) => {
          const seq = nextSeq.get(input.chatId) ?? 1;
          nextSeq.set(input.chatId, seq + 1);
          return {
            chat_id: input.chatId,
            sender_id: input.senderId,
            text: input.text,
            seq,
            kind: input.kind,
            reply_to: input.replyTo,
            client_msg_id: input.clientMsgId,
            created_at: now,
          };
        });
        const inserted = await trx.insertInto('messages').values(rows).returningAll().execute();
        const bySeq = new Map(inserted.map((r) => [`${r.chat_id}:${r.seq}`, toMessage(r)]));
        toInsert.forEach(({ index }, i) => {
          const row = rows[i];
          const message = row && bySeq.get(`${row.chat_id}:${row.seq}`);
          if (!message) throw new Error('inserted message missing from RETURNING');
          results[index] = { message, created: true };
        });
      }
      for (const [index, first] of duplicateOf) {
        const original = results[first];
        if (original) results[index] = { message: original.message, created: false };
      }
      return results.map((r) => {
        if (!r) throw new Error('append result missing');
        return r;
      });
    });
  }

  async getMessage(id: number): Promise<Message | undefined> {
    const row = await this.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toMessage(row);
  }

  async listMessages(chatId: number, query: HistoryQuery): Promise<Message[]> {
    let q = this.db.selectFrom('messages').selectAll().where('chat_id', '=', chatId);
    if (query.beforeId !== undefined) q = q.where('id', '<', query.beforeId);
    const rows = await q.orderBy('seq', 'desc').limit(query.limit).offset(query.offset).execute();
    return rows.reverse().map(toMessage);
  }

  async listMessagesAfterSeq(chatId: number, afterSeq: number, limit: number): Promise<Message[]> {
    const rows = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('chat_id', '=', chatId)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(toMessage);
  }

  async listMessagesSince(chatId: number, since: number, limit: number): Promise<Message[]> {
    const rows = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('chat_id', '=', chatId)
      .where('created_at', '>', since)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(toMessage);
  }
}
