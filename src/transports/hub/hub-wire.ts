import type { ChatSummary } from '../../domain/chat-summary.js';
import type { ChatCreated, ChatDeleted, ChatUpdated, MembersAdded, MembersRemoved } from '../../domain/events.js';
import type { Message } from '../../domain/message.js';

/** The `hub` envelope: every frame in both directions is `{type, data}`. */
export interface HubFrame {
  readonly type: string;
  readonly data: unknown;
}

/** Unix seconds, as the seed shows `created_at` and `last_seen` on the socket. */
export const unixSeconds = (ms: number): number => Math.floor(ms / 1000);
const iso = (ms: number): string => new Date(ms).toISOString();

/** A message on the socket: the seed's fields plus `id` and `seq` (for dedup and catch-up). */
export function socketMessage(m: Message) {
  return {
    id: String(m.id),
    conversation_id: String(m.chatId),
    sender_id: m.senderId,
    body: m.text,
    created_at: unixSeconds(m.createdAt),
    seq: m.seq,
    // Only when the sender gave one: lets it match its pending message to the stored one.
    ...(m.clientMsgId !== null ? { client_msg_id: m.clientMsgId } : {}),
  };
}

/** A message in REST answers: the same fields, with an ISO-8601 `created_at`. */
export function restMessage(m: Message) {
  return {
    id: String(m.id),
    conversation_id: String(m.chatId),
    sender_id: m.senderId,
    body: m.text,
    created_at: iso(m.createdAt),
    seq: m.seq,
    ...(m.clientMsgId !== null ? { client_msg_id: m.clientMsgId } : {}),
  };
}

/** The other member of a private conversation, so a client can title and address it. */
export interface Peer {
  readonly id: string;
  readonly name: string;
}

export function restConversation(s: ChatSummary, peer: Peer | null) {
  return {
    id: String(s.chat.id),
    created_at: iso(s.chat.createdAt),
    updated_at: iso(s.chat.updatedAt),
    type: s.chat.type,
    name: s.chat.name ?? peer?.name ?? null,
    peer_id: peer?.id ?? null,
    last_message: s.lastMessage ? restMessage(s.lastMessage) : null,
    unread_count: s.unreadCount,
  };
}

export function presenceData(userId: string, online: boolean, lastSeenMs: number | null) {
  return { user_id: userId, online, last_seen: lastSeenMs === null ? null : unixSeconds(lastSeenMs) };
}

export const encodeFrame = (type: string, data: unknown): string => JSON.stringify({ type, data });

/**
 * A chat or membership change as a hub event (an addition to the seed): `conversation_created`,
 * `conversation_updated`, `conversation_deleted`, `members_added`, `members_removed`. Each names
 * the `actor_id` who made it, so a client can write "Alice removed Bob".
 */
export function chatChangeFrame(event: ChatCreated | ChatUpdated | ChatDeleted | MembersAdded | MembersRemoved): string {
  const base = { conversation_id: String(event.chatId), actor_id: event.actorId };
  switch (event.type) {
    case 'chat.created':
    case 'chat.updated': {
      const c = event.chat;
      const fields = { ...base, type: c.type, name: c.name, description: c.description, avatar_url: c.avatarUrl, updated_at: unixSeconds(c.updatedAt) };
      return event.type === 'chat.created'
        ? encodeFrame('conversation_created', { ...fields, member_ids: event.memberIds })
        : encodeFrame('conversation_updated', fields);
    }
    case 'chat.deleted':
      return encodeFrame('conversation_deleted', base);
    case 'members.added':
      return encodeFrame('members_added', { ...base, user_ids: event.userIds, member_ids: event.memberIds });
    case 'members.removed':
      return encodeFrame('members_removed', { ...base, user_ids: event.userIds, member_ids: event.memberIds });
  }
}
