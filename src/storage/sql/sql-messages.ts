import type { Kysely } from 'kysely';
import type { Message } from '../../domain/message.js';
import type { HistoryQuery } from '../../ports/store.js';
import { toMessage } from './row-mappers.js';
import type { Tables } from './tables.js';

/** Messages: the history reads (the seq-allocating append is each engine's `HotPath`). */
export class SqlMessages {
  constructor(private readonly db: Kysely<Tables>) {}

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
