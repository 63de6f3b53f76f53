import type { ChatCore } from '../../core/chat-core.js';
import { parseClientMsgId } from '../../core/client-msg-id.js';
import { parseChangesRequest, parseId, parsePage } from '../../core/paging.js';
import { badRequest } from '../../domain/errors.js';
import type { Message } from '../../domain/message.js';
import type { User } from '../../domain/user.js';
import { toSocketIoMessage, toSocketIoUser, type SocketIoMessage } from './message-shape.js';
import type { SocketIoSession } from './socketio-session.js';

/** The seed: joining a chat answers with its latest 50 messages. */
export const JOIN_HISTORY = 50;
/** `get_chat_messages` without a `limit` (the core caps any limit at its page maximum). */
export const DEFAULT_PAGE = 50;

export interface EventContext {
  readonly core: ChatCore;
  readonly user: User;
  readonly session: SocketIoSession;
}

type Handler = (ctx: EventContext, payload: unknown) => Promise<Record<string, unknown>>;

function fields(payload: unknown): Record<string, unknown> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw badRequest('Payload must be an object');
  return payload as Record<string, unknown>;
}

function chatIdOf(payload: unknown): number {
  return parseId(fields(payload)['chatId'], 'chatId');
}

/** Messages with their senders' profiles, looked up once per page. */
async function encodeMessages(core: ChatCore, messages: readonly Message[]): Promise<SocketIoMessage[]> {
  const users = await core.usersById([...new Set(messages.map((m) => m.senderId))]);
  return messages.map((m) => toSocketIoMessage(m, users.get(m.senderId)));
}

const sendMessage: Handler = async ({ core, user }, payload) => {
  const body = fields(payload);
  const chatId = parseId(body['chatId'], 'chatId');
  const clientMsgId = parseClientMsgId(body['clientMsgId'], 'clientMsgId');
  // A retry (same clientMsgId) acks the original message; no second `new_message` goes out.
  const { message } = await core.sendMessage(user.id, { chatId, text: body['text'], clientMsgId });
  // The current profile (cached by the core), as `new_message` carries it, not the one of connect time.
  const sender = (await core.usersById([user.id])).get(user.id) ?? user;
  return { success: true, message: toSocketIoMessage(message, sender) };
};

/**
 * Joins first, then reads: a message committed while the page loads arrives as `new_message`
 * (possibly also in the page; ids tell them apart) instead of being lost between the two.
 */
const joinChat: Handler = async ({ core, user, session }, payload) => {
  const chatId = chatIdOf(payload);
  const added = session.join(chatId);
  try {
    const messages = await core.history(user.id, chatId, { limit: JOIN_HISTORY, offset: 0 });
    return { success: true, messages: await encodeMessages(core, messages) };
  } catch (err) {
    if (added) session.leave(chatId);
    throw err;
  }
};

/** Leaving a chat one never joined (or cannot see) is a no-op success: nothing to stop. */
const leaveChat: Handler = async ({ session }, payload) => {
  session.leave(chatIdOf(payload));
  return { success: true };
};

const getChatMessages: Handler = async ({ core, user }, payload) => {
  const body = fields(payload);
  const chatId = parseId(body['chatId'], 'chatId');
  const page = parsePage(body['limit'], body['offset'], { limit: DEFAULT_PAGE, max: core.settings.maxPageSize });
  const messages = await core.history(user.id, chatId, page);
  return { success: true, messages: await encodeMessages(core, messages) };
};

/** `{q, limit?, offset?}`: the caller's chats only, best match first, then newest. */
const searchMessages: Handler = async ({ core, user }, payload) => {
  const body = fields(payload);
  const page = parsePage(body['limit'], body['offset'], { limit: DEFAULT_PAGE, max: core.settings.maxPageSize });
  const messages = await core.searchMessages(user.id, { q: body['q'], ...page });
  return { success: true, messages: await encodeMessages(core, messages) };
};

/** Newest activity first; `messages` holds the last message, or nothing. */
const getMyChats: Handler = async ({ core, user }) => {
  const summaries = await core.listChats(user.id, { limit: null, offset: 0 });
  const members = await Promise.all(summaries.map((s) => core.listMembers(user.id, s.chat.id).catch(() => [])));
  const senders = await core.usersById([...new Set(summaries.flatMap((s) => (s.lastMessage ? [s.lastMessage.senderId] : [])))]);
  const chats = summaries.map((s, i) => ({
    id: String(s.chat.id),
    type: s.chat.type,
    name: s.chat.name,
    users: (members[i] ?? []).map((m) => toSocketIoUser(m.user)),
    messages: s.lastMessage ? [toSocketIoMessage(s.lastMessage, senders.get(s.lastMessage.senderId))] : [],
    updatedAt: new Date(s.chat.updatedAt).toISOString(),
  }));
  return { success: true, chats };
};

/** Only the author; the ack carries the edited message, `message_updated` goes to the chat. */
const editMessage: Handler = async ({ core, user }, payload) => {
  const body = fields(payload);
  const message = await core.editMessage(user.id, { chatId: undefined, messageId: parseId(body['messageId'], 'messageId') }, body['text']);
  const sender = (await core.usersById([user.id])).get(user.id) ?? user;
  return { success: true, message: toSocketIoMessage(message, sender) };
};

const deleteMessage: Handler = async ({ core, user }, payload) => {
  await core.deleteMessage(user.id, { chatId: undefined, messageId: parseId(fields(payload)['messageId'], 'messageId') });
  return { success: true };
};

/** Catch-up of edits and deletes after a change cursor (`after`, default 0). */
const getChatChanges: Handler = async ({ core, user }, payload) => {
  const body = fields(payload);
  const chatId = parseId(body['chatId'], 'chatId');
  const { after, limit } = parseChangesRequest(body['after'], body['limit'], DEFAULT_PAGE);
  const page = await core.changesAfter(user.id, chatId, after, limit);
  return { success: true, changes: await encodeMessages(core, page.changes), cursor: page.cursor };
};

export const eventHandlers: ReadonlyMap<string, Handler> = new Map([
  ['edit_message', editMessage],
  ['delete_message', deleteMessage],
  ['get_chat_changes', getChatChanges],
  ['send_message', sendMessage],
  ['join_chat', joinChat],
  ['leave_chat', leaveChat],
  ['get_chat_messages', getChatMessages],
  ['get_my_chats', getMyChats],
  ['search_messages', searchMessages],
]);
