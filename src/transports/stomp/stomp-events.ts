import type { DomainEvent, MessageCreated, MessageDeleted, MessageUpdated } from '../../domain/events.js';
import { encodeOnce } from '../../realtime/encode-once.js';
import { preview, renderMessage, renderSentMessage } from './stomp-render.js';

/** A JSON body serialized once per event, with its byte length for `content-length`. */
export interface EncodedBody {
  readonly json: string;
  readonly length: number;
}

const encoded = (value: unknown): EncodedBody => {
  const json = JSON.stringify(value);
  return { json, length: Buffer.byteLength(json) };
};

/** `/topic/chat/{id}` envelope `{type, chatId, timestamp (Unix ms), payload}`. */
export const envelope = (type: string, chatId: number, timestamp: number, payload: unknown): EncodedBody => encoded({ type, chatId, timestamp, payload });

export function messageBody(event: MessageCreated): EncodedBody {
  return encodeOnce(event, 'stomp:MESSAGE', () => envelope('MESSAGE', event.chatId, event.message.createdAt, renderSentMessage(event.message)));
}

export function newMessageBody(event: MessageCreated): EncodedBody {
  return encodeOnce(event, 'stomp:NEW_MESSAGE', () =>
    encoded({ type: 'NEW_MESSAGE', chatId: event.chatId, senderId: event.message.senderId, preview: preview(event.message.text), timestamp: new Date(event.message.createdAt).toISOString() }),
  );
}

export function messageUpdatedBody(event: MessageUpdated): EncodedBody {
  return encodeOnce(event, 'stomp:MESSAGE_UPDATED', () => envelope('MESSAGE_UPDATED', event.chatId, event.message.editedAt ?? Date.now(), renderMessage(event.message)));
}

export function messageDeletedBody(event: MessageDeleted): EncodedBody {
  return encodeOnce(event, 'stomp:MESSAGE_DELETED', () =>
    envelope('MESSAGE_DELETED', event.chatId, event.message.deletedAt ?? Date.now(), {
      messageId: String(event.message.id),
      conversationId: String(event.chatId),
      changeSeq: event.message.changeSeq,
    }),
  );
}

export function typingBody(event: Extract<DomainEvent, { type: 'typing' }>): EncodedBody {
  return encodeOnce(event, 'stomp:TYPING', () => envelope('TYPING', event.chatId, Date.now(), { userId: event.userId, typing: event.isTyping }));
}

/** One body per chat of a presence change (the envelope names the chat). */
export function presenceBody(event: Extract<DomainEvent, { type: 'presence' }>, chatId: number): EncodedBody {
  const perChat = encodeOnce(event, 'stomp:presence', () => ({ at: Date.now(), bodies: new Map<number, EncodedBody>() }));
  let body = perChat.bodies.get(chatId);
  if (!body) {
    body = envelope(event.online ? 'USER_ONLINE' : 'USER_OFFLINE', chatId, perChat.at, { userId: event.userId, status: event.online ? 'ONLINE' : 'OFFLINE' });
    perChat.bodies.set(chatId, body);
  }
  return body;
}

export function deliveredBodies(event: Extract<DomainEvent, { type: 'receipt.delivered' }>): EncodedBody[] {
  return encodeOnce(event, 'stomp:MESSAGE_DELIVERED', () => {
    const now = Date.now();
    return event.entries.map((e) => envelope('MESSAGE_DELIVERED', event.chatId, now, { messageId: e.messageId, userId: e.userId }));
  });
}

/**
 * Large groups (more members than `LARGE_GROUP_SIZE`): one `MESSAGE_DELIVERED` per recipient
 * per flush, a cursor — every message of the chat up to `messageId` (`seq` and before) reached
 * `userId` — instead of one per message and recipient.
 */
export function deliveredCursorBodies(event: Extract<DomainEvent, { type: 'receipt.delivered' }>): EncodedBody[] {
  return encodeOnce(event, 'stomp:MESSAGE_DELIVERED:cursor', () => {
    const newest = new Map<string, { messageId: number; seq: number }>();
    for (const e of event.entries) {
      const seen = newest.get(e.userId);
      if (!seen || e.seq > seen.seq) newest.set(e.userId, { messageId: e.messageId, seq: e.seq });
    }
    const now = Date.now();
    return [...newest].map(([userId, upTo]) => envelope('MESSAGE_DELIVERED', event.chatId, now, { messageId: upTo.messageId, userId, seq: upTo.seq, upTo: true }));
  });
}

export function newChatBody(chatId: number, senderId: string, name: string | null): EncodedBody {
  return encoded({ type: 'NEW_CHAT', chatId, senderId, preview: name ?? '', timestamp: new Date().toISOString() });
}
