import { type Kysely } from 'kysely';
import type { Chat, ChatType, Member, Role } from '../../domain/chat.js';
import type { ChatSummary } from '../../domain/chat-summary.js';
import type { Message } from '../../domain/message.js';
import type { NewGroup } from '../../ports/store.js';
import { toChat, toMember, toMessage } from './row-mappers.js';
import type { Tables } from './tables.js';

const privateKey = (a: string, b: string): string => JSON.stringify(a < b ? [a, b] : [b, a]);

/** Chats, membership and the chat list (the `chats`/`members` tables). */
export class SqlChats {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly kind: 'sqlite' | 'postgres',
  ) {}


  async createGroup(input: NewGroup, now: number): Promise<Chat> {
    return this.db.transaction().execute(async (trx) => {
      const chat = await trx
        .insertInto('chats')
        .values({
          type: 'group',
          name: input.name,
          description: input.description,
          avatar_url: input.avatarUrl,
          private_key: null,
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const chatId = Number(chat.id);
      const rows = [
        { chat_id: chatId, user_id: input.ownerId, role: 'owner', joined_at: now },
        ...input.memberIds.filter((id) => id !== input.ownerId).map((id) => ({ chat_id: chatId, user_id: id, role: 'member', joined_at: now })),
      ];
      await trx.insertInto('members').values(rows).execute();
      return toChat(chat);
    });
  }

  async getOrCreatePrivateChat(a: string, b: string, now: number): Promise<{ chat: Chat; created: boolean }> {
    const key = privateKey(a, b);
    const existing = await this.findPrivateChat(a, b);
    if (existing) return { chat: existing, created: false };
    return this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('chats')
        .values({ type: 'private', name: null, description: null, avatar_url: null, private_key: key, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column('private_key').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!inserted) {
        // Another writer won the race; its transaction has committed by the time ours saw the conflict.
        const row = await trx.selectFrom('chats').selectAll().where('private_key', '=', key).executeTakeFirstOrThrow();
        return { chat: toChat(row), created: false };
      }
      const chatId = Number(inserted.id);
      await trx
        .insertInto('members')
        .values([
          { chat_id: chatId, user_id: a, role: 'member', joined_at: now },
          { chat_id: chatId, user_id: b, role: 'member', joined_at: now },
        ])
        .execute();
      return { chat: toChat(inserted), created: true };
    });
  }

  async findPrivateChat(a: string, b: string): Promise<Chat | undefined> {
    const row = await this.db.selectFrom('chats').selectAll().where('private_key', '=', privateKey(a, b)).executeTakeFirst();
    return row && toChat(row);
  }

  async getChat(id: number): Promise<Chat | undefined> {
    const row = await this.db.selectFrom('chats').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toChat(row);
  }

  async updateChat(
    id: number,
    patch: { name?: string; description?: string | null; avatarUrl?: string | null },
    now: number,
  ): Promise<Chat | undefined> {
    const row = await this.db
      .updateTable('chats')
      .set({
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.avatarUrl !== undefined ? { avatar_url: patch.avatarUrl } : {}),
        updated_at: now,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && toChat(row);
  }

  async deleteChat(id: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('messages').where('chat_id', '=', id).execute();
      await trx.deleteFrom('members').where('chat_id', '=', id).execute();
      await trx.deleteFrom('chats').where('id', '=', id).execute();
    });
  }


  async getMember(chatId: number, userId: string): Promise<Member | undefined> {
    const row = await this.db
      .selectFrom('members')
      .selectAll()
      .where('chat_id', '=', chatId)
      .where('user_id', '=', userId)
      .where('left_at', 'is', null)
      .executeTakeFirst();
    return row && toMember(row);
  }

  async listMembers(chatId: number): Promise<Member[]> {
    const rows = await this.db
      .selectFrom('members')
      .selectAll()
      .where('chat_id', '=', chatId)
      .where('left_at', 'is', null)
      .orderBy('joined_at')
      .orderBy('user_id')
      .execute();
    return rows.map(toMember);
  }

  async addMembers(chatId: number, userIds: readonly string[], role: Role, now: number): Promise<string[]> {
    if (userIds.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      const current = await trx.selectFrom('members').select(['user_id', 'left_at']).where('chat_id', '=', chatId).where('user_id', 'in', [...userIds]).execute();
      const active = new Set(current.filter((r) => r.left_at === null).map((r) => r.user_id));
      const former = new Set(current.filter((r) => r.left_at !== null).map((r) => r.user_id));
      const added: string[] = [];
      for (const userId of new Set(userIds)) {
        if (active.has(userId)) continue;
        if (former.has(userId)) {
          await trx
            .updateTable('members')
            .set({ left_at: null, role, joined_at: now })
            .where('chat_id', '=', chatId)
            .where('user_id', '=', userId)
            .execute();
        } else {
          await trx.insertInto('members').values({ chat_id: chatId, user_id: userId, role, joined_at: now }).execute();
        }
        added.push(userId);
      }
      if (added.length > 0) await trx.updateTable('chats').set({ updated_at: now }).where('id', '=', chatId).execute();
      return added;
    });
  }

  async removeMembers(chatId: number, userIds: readonly string[], now: number): Promise<string[]> {
    if (userIds.length === 0) return [];
    const rows = await this.db
      .updateTable('members')
      .set({ left_at: now })
      .where('chat_id', '=', chatId)
      .where('user_id', 'in', [...userIds])
      .where('left_at', 'is', null)
      .returning('user_id')
      .execute();
    return rows.map((r) => r.user_id);
  }

  async listChatSummaries(
    userId: string,
    page: { limit: number | null; offset: number },
    filter?: { type?: ChatType; chatId?: number },
  ): Promise<ChatSummary[]> {
    let query = this.db
      .selectFrom('members as mb')
      .innerJoin('chats as c', 'c.id', 'mb.chat_id')
      .selectAll('c')
      .select(['mb.role', 'mb.joined_at', 'mb.delivered_seq', 'mb.read_seq'])
      .where('mb.user_id', '=', userId)
      .where('mb.left_at', 'is', null)
      .orderBy('c.updated_at', 'desc')
      .orderBy('c.id', 'desc');
    if (filter?.type) query = query.where('c.type', '=', filter.type);
    if (filter?.chatId !== undefined) query = query.where('c.id', '=', filter.chatId);
    if (page.limit !== null) query = query.limit(page.limit).offset(page.offset);
    else if (page.offset > 0) query = query.limit(this.kind === 'sqlite' ? -1 : Number.MAX_SAFE_INTEGER).offset(page.offset);
    const rows = await query.execute();
    if (rows.length === 0) return [];
    const chatIds = rows.map((r) => Number(r.id));

    const last = await this.db
      .selectFrom('messages as m')
      .innerJoin('chats as c', (j) => j.onRef('c.id', '=', 'm.chat_id').onRef('c.last_seq', '=', 'm.seq'))
      .selectAll('m')
      .where('c.id', 'in', chatIds)
      .execute();
    const lastByChat = new Map<number, Message>(last.map((r) => [Number(r.chat_id), toMessage(r)]));

    const unread = await this.db
      .selectFrom('messages as m')
      .innerJoin('members as mb', (j) => j.onRef('mb.chat_id', '=', 'm.chat_id').on('mb.user_id', '=', userId))
      .select(['m.chat_id', (eb) => eb.fn.countAll().as('n')])
      .where('m.chat_id', 'in', chatIds)
      .whereRef('m.seq', '>', 'mb.read_seq')
      .where('m.sender_id', '<>', userId)
      .groupBy('m.chat_id')
      .execute();
    const unreadByChat = new Map<number, number>(unread.map((r) => [Number(r.chat_id), Number(r.n)]));

    return rows.map((r) => {
      const chat = toChat(r);
      return {
        chat,
        member: {
          chatId: chat.id,
          userId,
          role: r.role as Role,
          joinedAt: Number(r.joined_at),
          deliveredSeq: Number(r.delivered_seq),
          readSeq: Number(r.read_seq),
        },
        lastMessage: lastByChat.get(chat.id) ?? null,
        unreadCount: unreadByChat.get(chat.id) ?? 0,
      };
    });
  }

  async chatIdsOf(userId: string): Promise<number[]> {
    const rows = await this.db.selectFrom('members').select('chat_id').where('user_id', '=', userId).where('left_at', 'is', null).execute();
    return rows.map((r) => Number(r.chat_id));
  }

  async contactsOf(userId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('members as me')
      .innerJoin('members as other', 'other.chat_id', 'me.chat_id')
      .select('other.user_id')
      .distinct()
      .where('me.user_id', '=', userId)
      .where('me.left_at', 'is', null)
      .where('other.left_at', 'is', null)
      .where('other.user_id', '<>', userId)
      .execute();
    return rows.map((r) => r.user_id);
  }
}
