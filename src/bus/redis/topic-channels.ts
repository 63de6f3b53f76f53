import type { DomainEvent } from '../../domain/events.js';
import type { EventHandler, Topic } from '../../ports/broker.js';
import type { Logger } from '../../ports/logger.js';

/** What travels on a (shard) channel: the event plus the publishing instance. */
export interface Envelope {
  readonly i: string;
  readonly e: DomainEvent;
}

export interface Subscription {
  readonly handler: EventHandler;
}

/**
 * The interest that changed since the last flush: topics wanted but not subscribed remotely,
 * and topics subscribed but no longer wanted. Clears `dirty`. Shared by the Redis and Redis
 * Cluster brokers, which differ only in how they send the commands.
 */
export function interestChanges(dirty: Set<Topic>, handlers: ReadonlyMap<Topic, unknown>, remote: ReadonlySet<Topic>): { add: Topic[]; drop: Topic[] } {
  const add: Topic[] = [];
  const drop: Topic[] = [];
  for (const topic of dirty) {
    const wanted = handlers.has(topic);
    if (wanted && !remote.has(topic)) add.push(topic);
    else if (!wanted && remote.has(topic)) drop.push(topic);
  }
  dirty.clear();
  return { add, drop };
}

/**
 * Decodes one channel message and hands it to the topic's local handlers: a message that is not
 * an envelope is logged and skipped, a throwing handler is logged and the others still run.
 */
export function deliverToHandlers(text: string, channel: string, topic: Topic, subs: Iterable<Subscription>, log: Logger): void {
  let envelope: Envelope | null = null;
  try {
    envelope = JSON.parse(text) as Envelope;
  } catch {
    // reported below
  }
  if (!envelope || typeof envelope !== 'object' || !envelope.e || typeof envelope.e.type !== 'string') {
    log.warn({ channel }, 'malformed bus message ignored');
    return;
  }
  for (const { handler } of subs) {
    try {
      handler(envelope.e, topic);
    } catch (err) {
      log.error({ err: { message: (err as Error).message }, topic }, 'bus handler threw');
    }
  }
}
