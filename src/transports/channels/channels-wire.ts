import type { MessagesRead, SenderProfile, TypingChanged } from '../../domain/events.js';
import type { Message } from '../../domain/message.js';

/** SPEC: user ids are strings inside, numbers on this wire when they are canonical integers. */
export function wireUserId(id: string): number | string {
  if (/^[1-9]\d{0,14}$/.test(id)) return Number(id);
  return id;
}

/** The seed always shows a username; a user known only by id (no claim) shows its id. */
function wireUsername(username: string | null, id: string): string {
  return username ?? id;
}

export function connectionEstablishedFrame(chatId: number): string {
  return JSON.stringify({ type: 'connection_established', message: 'Successfully connected to chat', chat_id: chatId });
}

/** The seed's `message` frame: the stored message with its sender's public profile. */
export function messageFrame(message: Message, sender: SenderProfile): string {
  return JSON.stringify({ type: 'message', data: messageData(message, sender) });
}

/** The seed's message model. */
export function messageData(message: Message, sender: SenderProfile) {
  return {
      id: message.id,
      text: message.text,
      sender: {
        id: wireUserId(sender.id),
        username: wireUsername(sender.username, sender.id),
        // Django's User model has empty strings, never null, for unset names.
        first_name: sender.firstName ?? '',
        last_name: sender.lastName ?? '',
      },
      timestamp: new Date(message.createdAt).toISOString(),
      is_edited: message.editedAt !== null,
      is_deleted: message.deletedAt !== null,
      // Only when the sender gave one (idempotent send), so it can match its pending message.
      ...(message.clientMsgId !== null ? { client_msg_id: message.clientMsgId } : {}),
  };
}

/** An edit: the message model as it is now (`is_edited: true`), plus the change cursor. */
export function messageUpdatedFrame(message: Message, sender: SenderProfile): string {
  return JSON.stringify({ type: 'message_updated', data: { ...messageData(message, sender), change_seq: message.changeSeq } });
}

export function messageDeletedFrame(message: Message): string {
  return JSON.stringify({ type: 'message_deleted', data: { id: message.id, is_deleted: true, change_seq: message.changeSeq } });
}

/** The answer to `get_changes`: changed messages in change order, and the cursor to ask after next. */
export function changesFrame(messages: readonly { message: Message; sender: SenderProfile }[], cursor: number): string {
  return JSON.stringify({ type: 'changes', data: messages.map(({ message, sender }) => ({ ...messageData(message, sender), change_seq: message.changeSeq })), cursor });
}

export function typingFrame(event: TypingChanged): string {
  return JSON.stringify({ type: 'typing', user_id: wireUserId(event.userId), username: wireUsername(event.username, event.userId), is_typing: event.isTyping });
}

export function messagesReadFrame(event: MessagesRead): string {
  return JSON.stringify({ type: 'messages_read', user_id: wireUserId(event.userId), username: wireUsername(event.username, event.userId) });
}

export function errorFrame(message: string): string {
  return JSON.stringify({ type: 'error', message });
}
