import type { Chat, ChatType, Member, Role } from '../domain/chat.js';
import type { ChatSummary } from '../domain/chat-summary.js';
import type { Message } from '../domain/message.js';
import type { SearchExpression } from '../domain/search-expression.js';
import type { ProfilePatch, User } from '../domain/user.js';

export interface NewMessage {
  readonly chatId: number;
  readonly senderId: string;
  readonly text: string;
  readonly kind: string;
  readonly replyTo: number | null;
  /** With a client id, a retried send returns the stored message instead of a duplicate. */
  readonly clientMsgId: string | null;
}

export interface AppendResult {
  readonly message: Message;
  /** False when the client id named a message stored earlier (an idempotent retry). */
  readonly created: boolean;
}

export interface NewGroup {
  readonly name: string;
  readonly description: string | null;
  readonly avatarUrl: string | null;
  readonly ownerId: string;
  /** Members besides the owner (deduplicated by the caller). */
  readonly memberIds: readonly string[];
}

export interface Account {
  readonly userId: string;
  readonly username: string;
  readonly email: string | null;
  readonly passwordHash: string;
}

export interface ReceiptAdvance {
  readonly chatId: number;
  readonly userId: string;
  readonly seq: number;
}

export interface ReceiptAdvanced extends ReceiptAdvance {
  /** The cursor before this call: messages with seq in (previous, seq] are newly covered. */
  readonly previous: number;
}

export interface HistoryQuery {
  readonly limit: number;
  /** Counts back from the newest message. */
  readonly offset: number;
  /** Only messages with id < beforeId (the `stomp` seed's `beforeMessageId`). */
  readonly beforeId?: number | undefined;
}

export interface SearchQuery {
  /** Only chats this user is a current member of. */
  readonly memberId: string;
  readonly expression: SearchExpression;
  readonly limit: number;
  readonly offset: number;
}

/**
 * Durable state. Guarantees every implementation keeps (the conformance suite checks them):
 * - `appendMessages` allocates each chat's `seq` in the same transaction as the insert,
 *   serialized per chat: seqs are 1, 2, 3 … with no gap or repeat, in commit order, and the
 *   results come back in input order. Either every message of a call is stored or none is.
 * - A private chat is unique per pair of users: `getOrCreatePrivateChat` never makes two.
 * - `editMessage` / `deleteMessage` change a live (not deleted) message of the named chat in one
 *   transaction that also takes the chat's next change cursor; cursors are 1, 2, 3 … per chat
 *   in commit order, so `listChangesAfter(cursor)` never misses a change committed later.
 *   A delete erases the stored text. A deleted or unknown message is left alone (`undefined`).
 * - Receipt cursors only move forward.
 * - Membership reads see only current members (a removed member is gone at once).
 * - `searchMessages` matches words case-insensitively in any script (no stemming, no stop
 *   words), only in chats the user is a current member of, never in a deleted message or in
 *   text that was replaced (the index follows every change of `text` and `deleted_at`); best
 *   match first, then newest (id descending: ids grow in commit order).
 * - Conflicts raise `ChatError('conflict')`; unknown ids come back as `undefined`, not errors.
 * - A database that cannot be reached (down, restarting, connection lost) raises
 *   `ChatError('unavailable')`, which every dialect answers as retryable (REST 503 +
 *   Retry-After); the outage is logged once when it starts and once when it ends.
 * Times are Unix milliseconds.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * How many `appendMessages` calls may usefully run at once (the writer keeps that many lanes,
   * each chat in one): 1 for an in-process engine with a single writer, more for a server.
   */
  readonly writeConcurrency: number;

  ping(): Promise<void>;
  close(): Promise<void>;

  /** Server-wide settings (e.g. the generated JWT secret): first writer wins, everyone reads it. */
  getOrSetSetting(key: string, valueIfAbsent: string): Promise<string>;

  getUser(id: string): Promise<User | undefined>;
  getUsers(ids: readonly string[]): Promise<User[]>;
  findUserByUsername(username: string): Promise<User | undefined>;
  /** Inserts the user when unknown, else applies the patch (only the fields present). */
  upsertUser(id: string, patch: ProfilePatch, now: number): Promise<User>;
  /**
   * A token's claims: inserts the user when unknown; otherwise applies the patch only when
   * `claimsHash` differs from the hash of the claims applied last time.
   */
  applyClaims(id: string, patch: ProfilePatch, claimsHash: string, now: number): Promise<User>;
  createAccount(input: { username: string; email: string | null; name: string | null; passwordHash: string }, now: number): Promise<User>;
  findAccount(login: { username?: string; email?: string }): Promise<Account | undefined>;

  createGroup(input: NewGroup, now: number): Promise<Chat>;
  getOrCreatePrivateChat(a: string, b: string, now: number): Promise<{ chat: Chat; created: boolean }>;
  findPrivateChat(a: string, b: string): Promise<Chat | undefined>;
  getChat(id: number): Promise<Chat | undefined>;
  updateChat(id: number, patch: { name?: string; description?: string | null; avatarUrl?: string | null }, now: number): Promise<Chat | undefined>;
  deleteChat(id: number): Promise<void>;

  getMember(chatId: number, userId: string): Promise<Member | undefined>;
  listMembers(chatId: number): Promise<Member[]>;
  /** Adds (or re-adds) users; returns the ids that were not members before. */
  addMembers(chatId: number, userIds: readonly string[], role: Role, now: number): Promise<string[]>;
  /** Returns the ids that were members and are now removed. */
  removeMembers(chatId: number, userIds: readonly string[], now: number): Promise<string[]>;
  /** Chats the user is currently in, newest activity first. */
  listChatSummaries(userId: string, page: { limit: number | null; offset: number }, filter?: { type?: ChatType; chatId?: number }): Promise<ChatSummary[]>;
  chatIdsOf(userId: string): Promise<number[]>;
  /** Distinct users sharing at least one chat with `userId` (not including it). */
  contactsOf(userId: string): Promise<string[]>;

  appendMessages(batch: readonly NewMessage[], now: number): Promise<AppendResult[]>;
  getMessage(id: number): Promise<Message | undefined>;
  /** A page counted back from the newest, returned oldest first. */
  listMessages(chatId: number, query: HistoryQuery): Promise<Message[]>;
  listMessagesAfterSeq(chatId: number, afterSeq: number, limit: number): Promise<Message[]>;
  listMessagesSince(chatId: number, since: number, limit: number): Promise<Message[]>;
  /** Sets the text of a live message of `chatId` (and `editedAt`); undefined when unknown or deleted. */
  editMessage(chatId: number, messageId: number, text: string, now: number): Promise<Message | undefined>;
  /** Erases the text of a live message of `chatId` and sets `deletedAt`; undefined when unknown or deleted. */
  deleteMessage(chatId: number, messageId: number, now: number): Promise<Message | undefined>;
  /** Messages whose latest change has `changeSeq > afterChangeSeq`, in change order (current state each). */
  listChangesAfter(chatId: number, afterChangeSeq: number, limit: number): Promise<Message[]>;
  /** Full-text search; see the guarantees above. */
  searchMessages(query: SearchQuery): Promise<Message[]>;

  /** Moves cursors forward; returns only the entries that moved. */
  advanceDelivered(entries: readonly ReceiptAdvance[]): Promise<ReceiptAdvanced[]>;
  /** The stored delivered cursors of those (chat, user) pairs that are current members. */
  deliveredCursors(keys: readonly { readonly chatId: number; readonly userId: string }[]): Promise<ReceiptAdvance[]>;
  advanceRead(entry: ReceiptAdvance): Promise<ReceiptAdvanced | undefined>;
}
