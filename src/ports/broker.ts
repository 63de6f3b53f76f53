import type { DomainEvent } from '../domain/events.js';

/**
 * Where an event is published and what an instance subscribes to: `chat:<id>` (everything that
 * happens in one chat) or `user:<id>` (what concerns one user wherever they are: being added to
 * or removed from a chat, their presence, their session claims). Build them with `chatTopic` /
 * `userTopic`; any other string is a valid topic too (conformance tests use their own).
 */
export type Topic = string;

export function chatTopic(chatId: number): Topic {
  return `chat:${chatId}`;
}

export function userTopic(userId: string): Topic {
  return `user:${userId}`;
}

/** Receives one event and the topic it was published on (a handler may serve several topics). */
export type EventHandler = (event: DomainEvent, topic: Topic) => void;

/**
 * The one fan-out path, by interest: the core publishes each committed change once per topic
 * it concerns, and an instance receives only the topics one of its local sessions (or the
 * core's own caches) subscribed to. Nothing on the bus carries member lists, so the cost of a
 * publish does not grow with the members of a chat, online or not.
 *
 * Guarantees every implementation keeps (`test/conformance/broker.test.ts` runs one suite on
 * each):
 * - **At-most-once.** An event published while the link is down, or on a topic whose
 *   subscription is not live yet, is lost for that subscriber; clients catch up by `seq` from
 *   the store. `publish` never throws, blocks or queues for an outage: it drops and counts.
 * - **Order per publisher per topic.** Events one broker publishes on one topic reach every
 *   subscriber of that topic in publish order. Nothing is promised across topics or across
 *   publishers (two instances writing one chat: the registry's `SeqOrderer` restores seq order).
 * - **Topic isolation.** A handler sees only events published on the topics it subscribed to,
 *   once per subscription (a handler subscribed twice to one topic is called twice).
 * - **Handlers never break the bus.** A throwing handler is logged and skipped; the other
 *   handlers and the following events still run. Delivery is asynchronous: a publisher never
 *   runs subscriber code inside its own `publish` call.
 * - **Ref-counted, batched interest.** `subscribe` adds a local handler; the first local
 *   handler of a topic subscribes it remotely and the promise resolves once the subscription is
 *   live (events published after that are received). The returned function removes that one
 *   handler (idempotent); when the last one goes the topic is unsubscribed remotely. Remote
 *   subscribe/unsubscribe commands issued in one tick go out as one batch, and an unsubscribe
 *   followed by a subscribe within the tick cancels out.
 * - **Resubscribe after a lost link.** After a reconnect every topic that still has local
 *   handlers is subscribed again, then each `onResubscribed` callback runs (events published in
 *   between were missed, so sessions should catch up by seq). The memory bus never loses it.
 */
export interface Broker {
  readonly kind: 'memory' | 'redis' | 'redis-cluster';
  /** Fire-and-forget; per-publisher order per topic. */
  publish(topic: Topic, event: DomainEvent): void;
  /** Optional: the same event to several topics, serialized once. Same guarantees as `publish` per topic. */
  publishMany?(topics: readonly Topic[], event: DomainEvent): void;
  /** Adds interest; resolves when the subscription is live. Resolves the remover. */
  subscribe(topic: Topic, handler: EventHandler): Promise<() => void>;
  /** After a lost link every topic is resubscribed, then `cb` runs. Returns the remover. */
  onResubscribed?(cb: () => void): () => void;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** `publishMany` where the broker has it, else one `publish` per topic. */
export function publishAll(broker: Broker, topics: readonly Topic[], event: DomainEvent): void {
  if (topics.length === 0) return;
  if (topics.length === 1) broker.publish(topics[0] as Topic, event);
  else if (broker.publishMany) broker.publishMany(topics, event);
  else for (const topic of topics) broker.publish(topic, event);
}
