import type { MessageCreated } from '../domain/events.js';
import type { Message } from '../domain/message.js';
import type { MessageMeta } from './core-context.js';

/** The one place a `message.created` event is built: after commit, and for a retry's replay. */
export function messageCreated(message: Message, meta: MessageMeta, committedAt: number): MessageCreated {
  return { type: 'message.created', chatId: message.chatId, chatType: meta.chatType, memberIds: meta.memberIds, message, sender: meta.sender, committedAt };
}
