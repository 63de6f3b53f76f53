import type { DomainEvent } from '../../domain/events.js';
import { deliveredBodies, deliveredCursorBodies, messageBody, messageDeletedBody, messageUpdatedBody, newMessageBody, presenceBody, typingBody } from './stomp-events.js';
import type { StompSubscriptions } from './stomp-subscriptions.js';

/** What an event is rendered to: the connection's user, its subscriptions, and its NEW_CHAT notice. */
export interface StompEventTarget {
  readonly userId: string;
  readonly subscriptions: StompSubscriptions;
  /** NEW_CHAT on `/user/queue/notifications`; `name` null for a private chat (the creator's name is shown). */
  newChat(event: Extract<DomainEvent, { type: 'chat.created' | 'members.added' }>, name: string | null): void;
}

/**
 * Which destinations of one connection an event goes to. Returns true only when a new message
 * was pushed to a chat subscription: that is what counts as delivered.
 */
export function deliverEvent(target: StompEventTarget, event: DomainEvent): boolean {
  const subs = target.subscriptions;
  switch (event.type) {
    case 'message.created': {
      const wrote = subs.toChat(event.chatId, messageBody(event), false);
      if (event.message.senderId !== target.userId) subs.toQueue('notifications', newMessageBody(event));
      return wrote;
    }
    case 'message.updated':
      subs.toChat(event.chatId, messageUpdatedBody(event), false);
      return false;
    case 'message.deleted':
      subs.toChat(event.chatId, messageDeletedBody(event), false);
      return false;
    case 'typing':
      if (event.userId !== target.userId) subs.toChat(event.chatId, typingBody(event), true);
      return false;
    case 'presence':
      if (event.userId === target.userId) return false;
      for (const chatId of event.chatIds) if (subs.subscribedTo(chatId)) subs.toChat(chatId, presenceBody(event, chatId), true);
      return false;
    case 'receipt.delivered':
      // One flush carries a receipt per message and recipient (~9 per message in a group of 10);
      // in a large group one cursor per recipient instead.
      subs.batchToChat(event.chatId, subs.largeChat(event.chatId) ? deliveredCursorBodies(event) : deliveredBodies(event));
      return false;
    case 'chat.created':
      if (event.actorId !== target.userId) target.newChat(event, event.chat.type === 'private' ? null : event.chat.name);
      return false;
    case 'members.added':
      if (event.actorId !== target.userId && event.userIds.includes(target.userId)) target.newChat(event, event.chat.name);
      return false;
    default:
      // Removal and deletion end the chat's subscriptions through the registry's `lostAccess`.
      return false;
  }
}
