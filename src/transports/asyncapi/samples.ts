import type { Chat } from '../../domain/chat.js';
import type { MessageCreated, MessageDeleted, MessageUpdated, MessagesDelivered, MessagesRead, PresenceChanged, SenderProfile, TypingChanged } from '../../domain/events.js';
import type { Message } from '../../domain/message.js';

/**
 * Domain values the examples are rendered from: every example in the document is what a
 * dialect's own encoder makes of these, not a hand-written copy that could drift.
 */
const at = Date.UTC(2026, 0, 15, 10, 31, 0);

export const sampleSender: SenderProfile = { id: '3', username: 'bob', name: 'Bob', firstName: 'Bob', lastName: 'Smith', email: 'bob@example.com' };

export const sampleMessage: Message = {
  id: 42,
  chatId: 7,
  senderId: '3',
  text: 'hello',
  seq: 5,
  kind: 'TEXT',
  replyTo: null,
  clientMsgId: 'c-1f3a',
  createdAt: at,
  editedAt: null,
  deletedAt: null,
  changeSeq: 0,
};

export const sampleChat: Chat = { id: 7, type: 'group', name: 'Team', description: null, avatarUrl: null, createdAt: at, updatedAt: at, lastSeq: 5 };

// Fresh objects per call: encoders cache their output per event object.
export const messageCreated = (): MessageCreated => ({
  type: 'message.created',
  chatId: 7,
  chatType: 'group',
  message: sampleMessage,
  sender: sampleSender,
  committedAt: at,
});

export const typingChanged = (): TypingChanged => ({ type: 'typing', chatId: 7, userId: '3', username: 'bob', isTyping: true });

export const presenceChanged = (online: boolean): PresenceChanged => ({
  type: 'presence',
  userId: '3',
  online,
  lastSeen: online ? null : at,
  chatIds: [7],
});

export const messagesRead = (): MessagesRead => ({ type: 'receipt.read', chatId: 7, userId: '3', username: 'bob', readSeq: 5 });

export const messagesDelivered = (): MessagesDelivered => ({ type: 'receipt.delivered', chatId: 7, entries: [{ userId: '1', messageId: 42, seq: 5 }] });

/** Parses a frame an encoder produced as text. */
export const parsed = (json: string): unknown => JSON.parse(json);

/** The sample message after its author edited it (change cursor 3). */
export const editedMessage: Message = { ...sampleMessage, text: 'hello, edited', editedAt: at + 60_000, changeSeq: 3 };
/** The sample message's tombstone (change cursor 4). */
export const deletedMessage: Message = { ...sampleMessage, text: '', deletedAt: at + 120_000, changeSeq: 4 };

export const messageUpdated = (): MessageUpdated => ({ type: 'message.updated', chatId: 7, chatType: 'group', message: editedMessage, sender: sampleSender });

export const messageDeleted = (): MessageDeleted => ({ type: 'message.deleted', chatId: 7, chatType: 'group', message: deletedMessage, actorId: '3' });
