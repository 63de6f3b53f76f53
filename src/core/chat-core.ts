import type { Chat, ChatType } from '../domain/chat.js';
import type { ChatSummary } from '../domain/chat-summary.js';
import type { Message } from '../domain/message.js';
import { notFound } from '../domain/errors.js';
import type { User } from '../domain/user.js';
import { accessChat } from './access/access-chat.js';
import * as accounts from './actions/accounts.js';
import * as chats from './actions/chats.js';
import * as direct from './actions/direct-messages.js';
import * as members from './actions/members.js';
import * as messageEdits from './actions/message-edits.js';
import * as messages from './actions/messages.js';
import * as presence from './actions/presence.js';
import type { CoreContext } from './core-context.js';
import * as chatQueries from './queries/chat-queries.js';
import * as historyQueries from './queries/history-queries.js';
import { isLargeGroup } from './large-group.js';
import * as presenceQueries from './queries/presence-queries.js';
import * as searchQueries from './queries/search-queries.js';

/**
 * The one set of functions every dialect calls. Each method authorizes the actor and applies
 * the rules; dialects only decode their wire format, call one of these, and encode the result.
 */
export class ChatCore {
  constructor(private readonly ctx: CoreContext) {}

  get settings() {
    return this.ctx.settings;
  }

  // identity
  authenticate(token: string | null | undefined): Promise<User> {
    return accounts.authenticate(this.ctx, token);
  }
  register(input: Record<string, unknown>): Promise<accounts.Session> {
    return accounts.register(this.ctx, input);
  }
  login(input: Record<string, unknown>): Promise<accounts.Session> {
    return accounts.login(this.ctx, input);
  }
  updateProfile(actorId: string, input: accounts.ProfileInput): Promise<User> {
    return accounts.updateProfile(this.ctx, actorId, input);
  }
  getUser(id: string): Promise<User> {
    return chatQueries.getUser(this.ctx, id);
  }
  usersById(ids: readonly string[]): Promise<Map<string, User>> {
    return chatQueries.usersById(this.ctx, ids);
  }
  /** A user by username (case-insensitive for built-in accounts); 404 when unknown. */
  async findUserByUsername(username: string): Promise<User> {
    const user = await this.ctx.store.findUserByUsername(username);
    if (!user) throw notFound('User not found');
    return user;
  }

  // chats
  createGroup(actorId: string, input: chats.NewGroupInput): Promise<Chat> {
    return chats.createGroup(this.ctx, actorId, input);
  }
  openPrivateChat(actorId: string, otherId: string): Promise<{ chat: Chat; created: boolean }> {
    return chats.openPrivateChat(this.ctx, actorId, otherId);
  }
  /** From a participant list that must name exactly one other user (the caller may be listed too). */
  openPrivateChatAmong(actorId: string, participantIds: readonly string[]): Promise<{ chat: Chat; created: boolean }> {
    return direct.openPrivateChatAmong(this.ctx, actorId, participantIds);
  }
  findPrivateChatId(actorId: string, otherId: string): Promise<number | undefined> {
    return chatQueries.findPrivateChatId(this.ctx, actorId, otherId);
  }
  updateChat(actorId: string, chatId: number, patch: chats.ChatPatch): Promise<Chat> {
    return chats.updateChat(this.ctx, actorId, chatId, patch);
  }
  deleteGroup(actorId: string, chatId: number): Promise<void> {
    return chats.deleteGroup(this.ctx, actorId, chatId);
  }
  addMembers(actorId: string, chatId: number, userIds: readonly string[]): Promise<string[]> {
    return members.addMembers(this.ctx, actorId, chatId, userIds);
  }
  removeMembers(actorId: string, chatId: number, userIds: readonly string[]): Promise<string[]> {
    return members.removeMembers(this.ctx, actorId, chatId, userIds);
  }
  listChats(actorId: string, page: { limit: number | null; offset: number }, filter?: { type?: ChatType }): Promise<ChatSummary[]> {
    return chatQueries.listChats(this.ctx, actorId, page, filter);
  }
  getChatSummary(actorId: string, chatId: number): Promise<ChatSummary> {
    return chatQueries.getChatSummary(this.ctx, actorId, chatId);
  }
  listMembers(actorId: string, chatId: number): Promise<chatQueries.MemberView[]> {
    return chatQueries.listMembers(this.ctx, actorId, chatId);
  }
  /** Authorizes without loading more than the membership (for subscribe/connect checks). */
  /** `large`: more members than `largeGroupSize` (typing, presence and `stomp` receipts thinned out there). */
  async checkAccess(actorId: string, chatId: number): Promise<{ type: ChatType; role: string; large: boolean }> {
    const { membership, role } = await accessChat(this.ctx, actorId, chatId);
    return { type: membership.type, role, large: isLargeGroup(this.ctx, membership) };
  }

  // messages
  sendMessage(actorId: string, input: messages.SendInput): Promise<messages.SendResult> {
    return messages.sendMessage(this.ctx, actorId, input);
  }
  /** To a user: opens the private chat on first use; a refused send opens nothing. */
  sendDirect(actorId: string, otherId: string, input: Omit<messages.SendInput, 'chatId'>): Promise<messages.SendResult & { chat: Chat }> {
    return direct.sendDirect(this.ctx, actorId, otherId, input);
  }
  markRead(actorId: string, chatId: number): Promise<{ readSeq: number }> {
    return messages.markRead(this.ctx, actorId, chatId);
  }
  setTyping(actorId: string, chatId: number, isTyping: unknown): Promise<void> {
    return messages.setTyping(this.ctx, actorId, chatId, isTyping);
  }
  /** Only the author; same text rules as a send; announces `message.updated`. */
  editMessage(actorId: string, target: messageEdits.ChangeTarget, text: unknown): Promise<Message> {
    return messageEdits.editMessage(this.ctx, actorId, target, text);
  }
  /** The author, or a group's owner/admin; erases the text; announces `message.deleted`. */
  deleteMessage(actorId: string, target: messageEdits.ChangeTarget): Promise<Message> {
    return messageEdits.deleteMessage(this.ctx, actorId, target);
  }
  /** Edits and deletes after a change cursor (catch-up). */
  changesAfter(actorId: string, chatId: number, afterChangeSeq: number, limit: number): Promise<historyQueries.ChangesPage> {
    return historyQueries.changesAfter(this.ctx, actorId, chatId, afterChangeSeq, limit);
  }
  history(actorId: string, chatId: number, request: historyQueries.HistoryRequest): Promise<Message[]> {
    return historyQueries.history(this.ctx, actorId, chatId, request);
  }
  messagesAfterSeq(actorId: string, chatId: number, afterSeq: number, limit: number): Promise<Message[]> {
    return historyQueries.messagesAfterSeq(this.ctx, actorId, chatId, afterSeq, limit);
  }
  messagesSince(actorId: string, chatId: number, since: number, limit: number): Promise<Message[]> {
    return historyQueries.messagesSince(this.ctx, actorId, chatId, since, limit);
  }
  /** Full-text search over the caller's chats (`q` is validated here, not in the dialects). */
  searchMessages(actorId: string, request: searchQueries.SearchRequest): Promise<Message[]> {
    return searchQueries.searchMessages(this.ctx, actorId, request);
  }
  /**
   * Counts one connection attempt of an authenticated user against RATE_LIMIT_CONNECTIONS per
   * window (shared by all dialects and, with Redis, all instances). False: refuse it.
   */
  async admitConnection(userId: string): Promise<boolean> {
    const { rateLimitConnections, rateLimitWindowMs } = this.ctx.settings;
    if (rateLimitConnections <= 0) return true;
    return this.ctx.limiter.hit(`connect:${userId}`, rateLimitConnections, rateLimitWindowMs, this.ctx.clock.now());
  }

  // presence and receipts
  connectionOpened(userId: string, connectionId: string): Promise<void> {
    return presence.connectionOpened(this.ctx, userId, connectionId);
  }
  connectionClosed(userId: string, connectionId: string): Promise<void> {
    return presence.connectionClosed(this.ctx, userId, connectionId);
  }
  /** A user went offline without a disconnect (its instance crashed or shut down): announce it. */
  presenceExpired(userId: string, lastSeen: number): Promise<void> {
    return presence.announce(this.ctx, userId, false, lastSeen);
  }
  presenceOf(userId: string): Promise<{ online: boolean; lastSeen: number | null }> {
    return presenceQueries.presenceOf(this.ctx, userId);
  }
  onlineMembers(actorId: string, chatId: number): Promise<string[]> {
    return presenceQueries.onlineMembers(this.ctx, actorId, chatId);
  }
  /** Realtime reports each message it pushed to a user's connection. */
  noteDelivered(userId: string, message: Message): void {
    this.ctx.deliveries.noteMessage(userId, message);
  }

  /**
   * The chats a user is in, every one (one query): realtime subscribes their topics when the
   * user's first connection opens here. Not a page: topics are cheap, missing one is not.
   */
  chatIdsOf(userId: string): Promise<number[]> {
    return this.ctx.store.chatIdsOf(userId);
  }

  /** Graceful shutdown: finish accepted writes and receipt flushes. */
  async drain(): Promise<void> {
    await this.ctx.writer.flush();
    await this.ctx.deliveries.flush();
    await this.ctx.presenceSettle.flush();
    this.ctx.typing.clear();
    this.ctx.members.clear();
  }
}
