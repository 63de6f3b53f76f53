import type { Selectable } from 'kysely';
import type { Chat, ChatType, Member, Role } from '../../domain/chat.js';
import type { Message } from '../../domain/message.js';
import type { User } from '../../domain/user.js';
import type { ChatsTable, MembersTable, MessagesTable, UsersTable } from './tables.js';

// PostgreSQL hands BIGINT back as strings unless a type parser is set; `Number` covers both.
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function toUser(r: Selectable<UsersTable>): User {
  return {
    id: r.id,
    username: r.username,
    name: r.name,
    firstName: r.first_name,
    lastName: r.last_name,
    email: r.email,
    description: r.description,
    avatarUrl: r.avatar_url,
    createdAt: num(r.created_at),
  };
}

export function toChat(r: Selectable<ChatsTable>): Chat {
  return {
    id: num(r.id),
    type: r.type as ChatType,
    name: r.name,
    description: r.description,
    avatarUrl: r.avatar_url,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    lastSeq: num(r.last_seq),
  };
}

export function toMember(r: Selectable<MembersTable>): Member {
  return {
    chatId: num(r.chat_id),
    userId: r.user_id,
    role: r.role as Role,
    joinedAt: num(r.joined_at),
    deliveredSeq: num(r.delivered_seq),
    readSeq: num(r.read_seq),
  };
}

export function toMessage(r: Selectable<MessagesTable>): Message {
  return {
    id: num(r.id),
    chatId: num(r.chat_id),
    senderId: r.sender_id,
    text: r.text,
    seq: num(r.seq),
    kind: r.kind,
    replyTo: numOrNull(r.reply_to),
    clientMsgId: r.client_msg_id,
    createdAt: num(r.created_at),
    editedAt: numOrNull(r.edited_at),
    deletedAt: numOrNull(r.deleted_at),
    changeSeq: num(r.change_seq ?? 0),
  };
}
