import type { DomainEvent } from '../domain/events.js';
import type { Broker, EventHandler } from '../ports/broker.js';
import { silentLogger, type Logger } from '../ports/logger.js';

/**
 * In-process bus. Delivery is asynchronous (a microtask after publish), like Redis, so that
 * a publisher never runs subscriber code inside its own call and ordering bugs show up in the
 * embedded default too. Events reach every handler in publish order; a handler that throws is
 * logged and skipped, as on Redis, so it cannot stop the others or the events after it.
 */
export class MemoryBroker implements Broker {
  readonly kind = 'memory' as const;
  private readonly handlers = new Set<EventHandler>();
  private queue: DomainEvent[] = [];
  private scheduled = false;

  constructor(private readonly log: Logger = silentLogger) {}

  publish(event: DomainEvent): void {
    this.queue.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.drain());
    }
  }

  subscribe(handler: EventHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.drain();
    this.handlers.clear();
  }

  private drain(): void {
    this.scheduled = false;
    const events = this.queue;
    this.queue = [];
    for (const event of events) {
      for (const handler of this.handlers) {
        try {
          handler(event);
        } catch (err) {
          this.log.error({ err: { message: (err as Error).message } }, 'bus handler threw');
        }
      }
    }
  }
}
