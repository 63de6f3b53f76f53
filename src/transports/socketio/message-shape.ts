import type { SenderProfile } from '../../domain/events.js';
import type { Message } from '../../domain/message.js';
import { displayName } from '../../domain/user.js';

/** The seed's user object inside a message and a chat. */
export interface SocketIoUser {
  readonly id: string;
  readonly email: string | null;
  readonly username: string;
}

/** The seed's message: ids as strings, ISO `createdAt`, the sender's profile inline. */
export interface SocketIoMessage {
  readonly id: string;
  readonly text: string;
  readonly sender: string;
  readonly chatId: string;
  readonly createdAt: string;
  readonly user: SocketIoUser;
  /** Only when the sender gave one (idempotent send). */
  readonly clientMsgId?: string;
  /** Only on an edited message (ISO-8601). */
  readonly editedAt?: string;
  /** Only on a deleted message's tombstone (ISO-8601); its `text` is "". */
  readonly deletedAt?: string;
  /** Only on a changed message: the chat's change cursor at its latest change (`get_chat_changes`). */
  readonly changeSeq?: number;
}

type Profile = Pick<SenderProfile, 'id' | 'username' | 'name' | 'firstName' | 'lastName' | 'email'>;

/**
 * `username` falls back to the display name (then the id) so a front-end that prints it never
 * shows an empty author for users whose identity provider sends no username claim.
 */
export function toSocketIoUser(profile: Profile): SocketIoUser {
  return { id: profile.id, email: profile.email ?? null, username: profile.username ?? displayName(profile) };
}

export function toSocketIoMessage(message: Message, sender: Profile | undefined): SocketIoMessage {
  const user = sender
    ? toSocketIoUser(sender)
    : { id: message.senderId, email: null, username: message.senderId };
  return {
    id: String(message.id),
    text: message.text,
    sender: message.senderId,
    chatId: String(message.chatId),
    createdAt: new Date(message.createdAt).toISOString(),
    user,
    ...(message.clientMsgId !== null ? { clientMsgId: message.clientMsgId } : {}),
    ...(message.editedAt !== null ? { editedAt: new Date(message.editedAt).toISOString() } : {}),
    ...(message.deletedAt !== null ? { deletedAt: new Date(message.deletedAt).toISOString() } : {}),
    ...(message.changeSeq > 0 ? { changeSeq: message.changeSeq } : {}),
  };
}
