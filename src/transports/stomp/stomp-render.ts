import type { ChatSummary } from '../../domain/chat-summary.js';
import type { Message } from '../../domain/message.js';
import { displayName } from '../../domain/user.js';
import type { MemberView } from '../../core/queries/chat-queries.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** The seed's MessageResponse: REST `id`/`conversationId`/`senderId` are strings. */
export function renderMessage(m: Message) {
  return {
    id: String(m.id),
    conversationId: String(m.chatId),
    senderId: m.senderId,
    content: m.text,
    createdAt: iso(m.createdAt),
    type: m.kind,
    replyToMessageId: m.replyTo,
    /** Per-chat 1, 2, 3 … (an addition): catch-up and read receipts compare it with `readSeq`. */
    seq: m.seq,
    // Edits and deletes (additions, null when not); a deleted message keeps its place with content "".
    editedAt: m.editedAt === null ? null : iso(m.editedAt),
    deletedAt: m.deletedAt === null ? null : iso(m.deletedAt),
    /** The chat's change cursor at this message's latest change (0: never); `/changes?after=` catches up. */
    changeSeq: m.changeSeq,
  };
}

/** A chat as `GET /api/chats` lists it; a private chat is named after the other member. */
export function renderChat(summary: ChatSummary, members: readonly MemberView[], actorId: string) {
  const { chat, lastMessage } = summary;
  const other = chat.type === 'private' ? members.find((m) => m.user.id !== actorId) : undefined;
  return {
    id: String(chat.id),
    type: chat.type,
    name: chat.type === 'private' ? (other ? displayName(other.user) : chat.name) : chat.name,
    description: chat.description,
    avatarUrl: chat.type === 'private' ? (other?.user.avatarUrl ?? chat.avatarUrl) : chat.avatarUrl,
    lastMessage: lastMessage ? { id: String(lastMessage.id), content: lastMessage.text, senderId: lastMessage.senderId } : null,
    // `readSeq` (an addition): every message with seq ≤ it is read by that participant.
    participants: members.map((m) => ({ userId: m.user.id, role: m.member.role, readSeq: m.member.readSeq })),
    unreadCount: summary.unreadCount,
    createdAt: iso(chat.createdAt),
    updatedAt: iso(chat.updatedAt),
  };
}

/** The first `n` Unicode code points (NEW_MESSAGE previews). */
export function preview(text: string, n = 50): string {
  const points = [...text];
  return points.length <= n ? text : points.slice(0, n).join('');
}

/** A message as sent back to its sender's echo paths: plus `clientMessageId` when the sender gave one (idempotent send). */
export function renderSentMessage(m: Message) {
  const rendered = renderMessage(m);
  return m.clientMsgId !== null ? { ...rendered, clientMessageId: m.clientMsgId } : rendered;
}
