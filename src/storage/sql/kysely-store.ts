import { sql, type Kysely } from 'kysely';
import type { Store } from '../../ports/store.js';
import type { HotPath } from './hot-path.js';
import { SqlChats } from './sql-chats.js';
import { SqlMessageEdits } from './sql-message-edits.js';
import { SqlMessages } from './sql-messages.js';
import { SqlReceipts } from './sql-receipts.js';
import { SqlSearch } from './sql-search.js';
import { SqlUsers } from './sql-users.js';
import type { Tables } from './tables.js';

/**
 * Measured (docs/benchmarks.md, 2000 msg/s): 4 lanes made 40 % more commits and 70 % more
 * backend CPU per message than 1, with no better latency — a batch is one round trip now, so
 * overlapping them only splits batches. Kept as a knob; raise it for a remote database.
 */
const POSTGRES_WRITE_LANES = 1;

/**
 * The Store for both databases: portable Kysely, split by table family. The few places where
 * the engines differ (row locks, LIMIT without a bound) branch on `kind`; connection setup and
 * the per-message statements (`HotPath`, written for each engine) live in `storage/sqlite` and
 * `storage/postgres`.
 */
export class KyselyStore implements Store {
  private readonly users: SqlUsers;
  private readonly chats: SqlChats;
  private readonly messages: SqlMessages;
  private readonly edits: SqlMessageEdits;
  private readonly receipts: SqlReceipts;
  private readonly search: SqlSearch;

  readonly writeConcurrency: number;

  constructor(
    readonly kind: 'sqlite' | 'postgres',
    private readonly db: Kysely<Tables>,
    private readonly hot: HotPath,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    this.writeConcurrency = kind === 'sqlite' ? 1 : POSTGRES_WRITE_LANES;
    this.users = new SqlUsers(db);
    this.chats = new SqlChats(db, kind);
    this.messages = new SqlMessages(db);
    this.edits = new SqlMessageEdits(db);
    this.receipts = new SqlReceipts(db, kind);
    this.search = new SqlSearch(db, kind);
  }

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

  getUser: Store['getUser'] = (id) => this.users.getUser(id);
  getUsers: Store['getUsers'] = (ids) => this.users.getUsers(ids);
  findUserByUsername: Store['findUserByUsername'] = (username) => this.users.findUserByUsername(username);
  upsertUser: Store['upsertUser'] = (id, patch, now) => this.users.upsertUser(id, patch, now);
  applyClaims: Store['applyClaims'] = (id, patch, hash, now) => this.users.applyClaims(id, patch, hash, now);
  createAccount: Store['createAccount'] = (input, now) => this.users.createAccount(input, now);
  findAccount: Store['findAccount'] = (login) => this.users.findAccount(login);

  createGroup: Store['createGroup'] = (input, now) => this.chats.createGroup(input, now);
  getOrCreatePrivateChat: Store['getOrCreatePrivateChat'] = (a, b, now) => this.chats.getOrCreatePrivateChat(a, b, now);
  findPrivateChat: Store['findPrivateChat'] = (a, b) => this.chats.findPrivateChat(a, b);
  getChat: Store['getChat'] = (id) => this.chats.getChat(id);
  updateChat: Store['updateChat'] = (id, patch, now) => this.chats.updateChat(id, patch, now);
  deleteChat: Store['deleteChat'] = (id) => this.chats.deleteChat(id);
  getMember: Store['getMember'] = (chatId, userId) => this.chats.getMember(chatId, userId);
  listMembers: Store['listMembers'] = (chatId) => this.chats.listMembers(chatId);
  addMembers: Store['addMembers'] = (chatId, userIds, role, now) => this.chats.addMembers(chatId, userIds, role, now);
  removeMembers: Store['removeMembers'] = (chatId, userIds, now) => this.chats.removeMembers(chatId, userIds, now);
  listChatSummaries: Store['listChatSummaries'] = (userId, page, filter) => this.chats.listChatSummaries(userId, page, filter);
  chatIdsOf: Store['chatIdsOf'] = (userId) => this.chats.chatIdsOf(userId);
  contactsOf: Store['contactsOf'] = (userId) => this.chats.contactsOf(userId);

  appendMessages: Store['appendMessages'] = (batch, now) => this.hot.appendMessages(batch, now);
  getMessage: Store['getMessage'] = (id) => this.messages.getMessage(id);
  listMessages: Store['listMessages'] = (chatId, query) => this.messages.listMessages(chatId, query);
  listMessagesAfterSeq: Store['listMessagesAfterSeq'] = (chatId, afterSeq, limit) => this.messages.listMessagesAfterSeq(chatId, afterSeq, limit);
  listMessagesSince: Store['listMessagesSince'] = (chatId, since, limit) => this.messages.listMessagesSince(chatId, since, limit);
  editMessage: Store['editMessage'] = (chatId, messageId, text, now) => this.edits.editMessage(chatId, messageId, text, now);
  deleteMessage: Store['deleteMessage'] = (chatId, messageId, now) => this.edits.deleteMessage(chatId, messageId, now);
  listChangesAfter: Store['listChangesAfter'] = (chatId, after, limit) => this.edits.listChangesAfter(chatId, after, limit);
  searchMessages: Store['searchMessages'] = (query) => this.search.searchMessages(query);

  advanceDelivered: Store['advanceDelivered'] = (entries) => this.hot.advanceDelivered(entries);
  deliveredCursors: Store['deliveredCursors'] = (keys) => this.hot.deliveredCursors(keys);
  advanceRead: Store['advanceRead'] = (entry) => this.receipts.advanceRead(entry);
}
