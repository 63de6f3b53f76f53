import { sql, type Kysely, type Transaction } from 'kysely';
import type { Message } from '../../domain/message.js';
import { toMessage } from './row-mappers.js';
import type { Tables } from './tables.js';

/**
 * Edits and deletes, apart from the append hot path. Each change is one transaction: the
 * message row first (a deleted or foreign row matches nothing and nothing else is touched),
 * then the chat's change cursor. Always message-then-chat, so two changes never wait on each
 * other in a cycle, and the chat row lock (held to commit) hands cursors out in commit order.
 */
export class SqlMessageEdits {
  constructor(private readonly db: Kysely<Tables>) {}

  editMessage(chatId: number, messageId: number, text: string, now: number): Promise<Message | undefined> {
    return this.change(chatId, messageId, { text, edited_at: now });
  }

  deleteMessage(chatId: number, messageId: number, now: number): Promise<Message | undefined> {
    // The text is erased from storage, not hidden: a tombstone keeps only id, seq and times.
    return this.change(chatId, messageId, { text: '', deleted_at: now });
  }

  async listChangesAfter(chatId: number, afterChangeSeq: number, limit: number): Promise<Message[]> {
    const rows = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('chat_id', '=', chatId)
      .where('change_seq', '>', afterChangeSeq)
      // Repeats the partial index's predicate so the planner may use it for any cursor.
      .where('change_seq', '>', 0)
      .orderBy('change_seq')
      .limit(limit)
      .execute();
    return rows.map(toMessage);
  }

  private change(chatId: number, messageId: number, set: { text: string; edited_at?: number; deleted_at?: number }): Promise<Message | undefined> {
    return this.db.transaction().execute(async (trx: Transaction<Tables>) => {
      const touched = await trx
        .updateTable('messages')
        .set(set)
        .where('id', '=', messageId)
        .where('chat_id', '=', chatId)
        .where('deleted_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      if (!touched) return undefined;
      const chat = await trx
        .updateTable('chats')
        .set({ last_change_seq: sql`last_change_seq + 1` })
        .where('id', '=', chatId)
        .returning('last_change_seq')
        .executeTakeFirstOrThrow();
      const row = await trx
        .updateTable('messages')
        .set({ change_seq: Number(chat.last_change_seq) })
        .where('id', '=', messageId)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toMessage(row);
    });
  }
}
