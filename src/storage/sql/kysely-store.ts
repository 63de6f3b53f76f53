import { sql, type Kysely, type Transaction } from 'kysely';
import type { Chat, ChatType, Member, Role } from '../../domain/chat.js';
import type { ChatSummary } from '../../domain/chat-summary.js';
import { conflict } from '../../domain/errors.js';
import type { Message } from '../../domain/message.js';
import type { ProfilePatch, User } from '../../domain/user.js';
import type {
  Account,
  AppendResult,
  HistoryQuery,
  NewGroup,
  NewMessage,
  ReceiptAdvance,
  ReceiptAdvanced,
  Store,
} from '../../ports/store.js';
import { toChat, toMember, toMessage, toUser } from './row-mappers.js';
import type { Tables } from './tables.js';
import { isUniqueViolation } from './unique-violation.js';

type Db = Kysely<Tables> | Transaction<Tables>;

const profileColumns = {
  username: 'username',
  name: 'name',
  firstName: 'first_name',
  lastName: 'last_name',
  email: 'email',
  description: 'description',
  avatarUrl: 'avatar_url',
} as const;

function patchToRow(patch: ProfilePatch): Record<string, string | null> {
  const row: Record<string, string | null> = {};
  for (const [field, column] of Object.entries(profileColumns)) {
    const value = patch[field as keyof ProfilePatch];
    if (value !== undefined) row[column] = value;
  }
  return row;
}

/** Rows per receipt statement: far below both engines' bound-parameter limits. */
const RECEIPT_CHUNK = 500;

const privateKey = (a: string, b: string): string => JSON.stringify(a < b ? [a, b] : [b, a]);

/**
 * The Store for both databases. Everything here is portable Kysely; the few places where
 * the engines differ (row locks) branch on `kind`, and connection setup lives in
 * `storage/sqlite` and `storage/postgres`.
 */
export class KyselyStore implements Store {
  constructor(
    readonly kind: 'sqlite' | 'postgres',
    private readonly db: Kysely<Tables>,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {}

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
    await this.onClose();
  }

  async getOrSetSetting(key: string, valueIfAbsent: string): Promise<string> {
    await this.db.insertInto('settings').values({ key, value: valueIfAbsent }).onConflict((oc) => oc.column('key').doNothing()).execute();
    const row = await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirstOrThrow();
    return row.value;
  }

  // ---- users -------------------------------------------------------------------------------

  async getUser(id: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async getUsers(ids: readonly string[]): Promise<User[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('users').selectAll().where('id', 'in', [...ids]).execute();
    return rows.map(toUser);
  }

  async findUserByUsername(username: string): Promise<User | undefined> {
    const account = await this.db.selectFrom('accounts').select('user_id').where('username_key', '=', username.toLowerCase()).executeTakeFirst();
    if (account) return this.getUser(account.user_id);
    const row = await this.db.selectFrom('users').selectAll().where('username', '=', username).orderBy('created_at').executeTakeFirst();
    return row && toUser(row);
  }

  async upsertUser(id: string, patch: ProfilePatch, now: number): Promise<User> {
    const row = patchToRow(patch);
    const insert = this.db.insertInto('users').values({ id, created_at: now, ...row });
    if (Object.keys(row).length === 0) {
      await insert.onConflict((oc) => oc.column('id').doNothing()).execute();
    } else {
      await insert.onConflict((oc) => oc.column('id').doUpdateSet(row)).execute();
    }
    const user = await this.getUser(id);
    if (!user) throw new Error('user vanished after upsert');
    return user;
  }

  async applyClaims(id: string, patch: ProfilePatch, claimsHash: string, now: number): Promise<User> {
    const row = { ...patchToRow(patch), claims_hash: claimsHash };
    await this.db
      .insertInto('users')
      .values({ id, created_at: now, ...row })
      .onConflict((oc) => oc.column('id').doUpdateSet(row).where(sql<boolean>`users.claims_hash is distinct from ${claimsHash}`))
      .execute();
    const user = await this.getUser(id);
    if (!user) throw new Error('user vanished after upsert');
    return user;
  }

  async createAccount(
    input: { username: string; email: string | null; name: string | null; passwordHash: string },
    now: number,
  ): Promise<User> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        // Numeric ids so every dialect can render built-in users as its seed shows; an id
        // already taken by a token's `sub` is skipped.
        let id = '';
        for (;;) {
          const counter = await trx
            .insertInto('counters')
            .values({ name: 'account', value: 1 })
            .onConflict((oc) => oc.column('name').doUpdateSet({ value: sql`counters.value + 1` }))
            .returning('value')
            .executeTakeFirstOrThrow();
          id = String(Number(counter.value));
          const taken = await trx.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst();
          if (!taken) break;
        }
        await trx
          .insertInto('users')
          .values({ id, username: input.username, email: input.email, name: input.name, created_at: now })
          .execute();
        await trx
          .insertInto('accounts')
          .values({
            user_id: id,
            username: input.username,
            username_key: input.username.toLowerCase(),
            email: input.email,
            email_key: input.email?.toLowerCase() ?? null,
            password_hash: input.passwordHash,
          })
          .execute();
        const user = await trx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        return toUser(user);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('username or email is already taken');
      throw err;
    }
  }

  async findAccount(login: { username?: string; email?: string }): Promise<Account | undefined> {
    let query = this.db.selectFrom('accounts').selectAll();
    if (login.username !== undefined) query = query.where('username_key', '=', login.username.toLowerCase());
    else if (login.email !== undefined) query = query.where('email_key', '=', login.email.toLowerCase());
    else return undefined;
    const row = await query.executeTakeFirst();
    return row && { userId: row.user_id, username: row.username, email: row.email, passwordHash: row.password_hash };
  }

  // ---- chats -------------------------------------------------------------------------------

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

  // ---- members -----------------------------------------------------------------------------

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

  // ---- messages ----------------------------------------------------------------------------

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
      // Ascending chat order: two writers never wait on each other's chat rows in a cycle.
      const nextSeq = new Map<number, number>();
      for (const chatId of [...counts.keys()].sort((x, y) => x - y)) {
        const n = counts.get(chatId) ?? 0;
        const row = await trx
          .updateTable('chats')
          .set({ last_seq: sql`last_seq + ${n}`, updated_at: now })
          .where('id', '=', chatId)
          .returning('last_seq')
          .executeTakeFirstOrThrow();
        nextSeq.set(chatId, Number(row.last_seq) - n + 1);
      }
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

  // ---- receipts ----------------------------------------------------------------------------

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
