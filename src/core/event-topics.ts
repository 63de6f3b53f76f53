import type { DomainEvent } from '../domain/events.js';
import { chatTopic, publishAll, userTopic, type Broker, type Topic } from '../ports/broker.js';

/**
 * The topics an event is published on: what happens in a chat goes to `chat:<id>`, which the
 * instances of its online members subscribe to. A membership change also goes to each affected
 * user's `user:<id>`, so the instance of a user who is not (or no longer) in the chat learns
 * it must subscribe (or unsubscribe); presence goes to the user's own topic and to each of its
 * chats' topics, so it reaches exactly the instances where someone sharing a chat is online.
 * None of this grows with offline members.
 */
export function topicsOf(event: DomainEvent): Topic[] {
  switch (event.type) {
    case 'chat.created':
      return event.memberIds.map(userTopic);
    case 'members.added':
    case 'members.removed':
      return [chatTopic(event.chatId), ...event.userIds.map(userTopic)];
    case 'presence':
      return [userTopic(event.userId), ...event.chatIds.map(chatTopic)];
    case 'session.claimed':
      return [userTopic(event.userId)];
    default:
      return [chatTopic(event.chatId)];
  }
}

/** Publishes an event on its topics (serialized once where the broker can). */
export function publishEvent(broker: Broker, event: DomainEvent): void {
  publishAll(broker, topicsOf(event), event);
}
