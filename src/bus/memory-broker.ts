import type { DomainEvent } from '../domain/events.js';
import type { Broker, EventHandler, Topic } from '../ports/broker.js';
import { silentLogger, type Logger } from '../ports/logger.js';

/** One subscription; a wrapper so the same function subscribed twice is two subscriptions. */
interface Subscription {
  readonly handler: EventHandler;
}

/**
 * In-process bus, by topic. Delivery is asynchronous (a microtask after publish), like Redis,
 * so that a publisher never runs subscriber code inside its own call and ordering bugs show up
 * in the embedded default too. Events of a topic reach its handlers in publish order; a handler
 * that throws is logged and skipped, as on Redis, so it cannot stop the others or the events
 * after it. A subscription is live as soon as `subscribe` is called (nothing remote to wait for).
 */
export class MemoryBroker implements Broker {
  readonly kind = 'memory' as const;
  private readonly topics = new Map<Topic, Set<Subscription>>();
  private queue: { topic: Topic; event: DomainEvent }[] = [];
  private scheduled = false;

  constructor(private readonly log: Logger = silentLogger) {}

  publish(topic: Topic, event: DomainEvent): void {
    // Nobody listening now: gone, as a Redis PUBLISH to a channel without subscribers.
    if (!this.topics.has(topic)) return;
    this.queue.push({ topic, event });
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.drain());
    }
  }

  publishMany(topics: readonly Topic[], event: DomainEvent): void {
    for (const topic of topics) this.publish(topic, event);
  }

  async subscribe(topic: Topic, handler: EventHandler): Promise<() => void> {
    let subs = this.topics.get(topic);
    if (!subs) this.topics.set(topic, (subs = new Set()));
    const sub: Subscription = { handler };
    subs.add(sub);
    return () => {
      const current = this.topics.get(topic);
      if (!current?.delete(sub)) return;
      if (current.size === 0) this.topics.delete(topic);
    };
  }

  /** Topics with at least one handler (tests and metrics). */
  get topicCount(): number {
    return this.topics.size;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.drain();
    this.topics.clear();
  }

  private drain(): void {
    this.scheduled = false;
    const events = this.queue;
    this.queue = [];
    for (const { topic, event } of events) {
      const subs = this.topics.get(topic);
      if (!subs) continue;
      for (const sub of subs) {
        try {
          sub.handler(event, topic);
        } catch (err) {
          this.log.error({ err: { message: (err as Error).message }, topic }, 'bus handler threw');
        }
      }
    }
  }
}
