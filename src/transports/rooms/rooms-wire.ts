import type { Chat } from '../../domain/chat.js';
import type { Message } from '../../domain/message.js';
import { displayName, type User } from '../../domain/user.js';

/** A user id as the `rooms` seed shows it: a JSON number when it is a canonical integer. */
export type WireUserId = number | string;

export function wireUserId(id: string): WireUserId {
  return /^[1-9]\d{0,14}$/.test(id) ? Number(id) : id;
}

export interface WireAuthor {
  readonly id: WireUserId;
  readonly name: string;
}

/**
 * The seed's Message model; `type` is `message`, `typing`, `stop_typing` or `last_message`,
 * and (issue 18) `edited` / `deleted` for changes, live and in history.
 */
export interface WireMessage {
  readonly id?: number;
  readonly chat_id: number;
  readonly type: 'message' | 'typing' | 'stop_typing' | 'last_message' | 'edited' | 'deleted';
  readonly text: string;
  readonly author: WireAuthor;
  readonly time: string;
  /** Only when the sender gave one (idempotent send): the client's own id for the message. */
  readonly client_msg_id?: string;
  /** Only on a message whose text was edited (history shows the current text). */
  readonly edited?: true;
}

export function wireTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function wireMessage(message: Message, authorName: string, type: 'message' | 'last_message' | 'edited' | 'deleted' = 'message'): WireMessage {
  return {
    id: message.id,
    chat_id: message.chatId,
    type,
    text: message.text,
    author: { id: wireUserId(message.senderId), name: authorName },
    time: wireTime(message.createdAt),
    ...(message.clientMsgId !== null ? { client_msg_id: message.clientMsgId } : {}),
    ...(message.editedAt !== null && message.deletedAt === null ? { edited: true as const } : {}),
  };
}

/** A history item: a deleted message stays in place as a `deleted` tombstone with `text: ""`. */
export function historyItem(message: Message, authorName: string): WireMessage {
  return wireMessage(message, authorName, message.deletedAt !== null ? 'deleted' : 'message');
}

/** The seed's User model, plus `avatar` (the photo URL, or null). */
export function wireUser(user: User) {
  return {
    id: wireUserId(user.id),
    name: displayName(user),
    username: user.username ?? '',
    description: user.description ?? '',
    avatar: user.avatarUrl,
  };
}

/** The seed's Group model, plus `avatar`. */
export function wireGroup(chat: Chat) {
  return { id: chat.id, name: chat.name ?? '', description: chat.description ?? '', avatar: chat.avatarUrl };
}

export function wireUserRef(user: User): WireAuthor {
  return { id: wireUserId(user.id), name: displayName(user) };
}
