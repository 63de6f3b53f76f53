import type { DomainEvent } from '../domain/events.js';

export type EventHandler = (event: DomainEvent) => void;

/**
 * The one fan-out path. The core publishes each committed change once; every instance's
 * subscriber receives it and hands it to its local sessions of every dialect.
 *
 * Guarantees: events published by one instance arrive at every subscriber in publish order
 * (so per-chat seq order holds for messages committed by one instance). Delivery is
 * at-most-once: an event published while a subscriber is disconnected can be missed, which
 * is why clients catch up by seq from the store. Handlers must not throw.
 */
export interface Broker {
  readonly kind: 'memory' | 'redis';
  publish(event: DomainEvent): void;
  subscribe(handler: EventHandler): () => void;
  /**
   * Optional: `cb` runs after the bus lost its link and subscribed again (events published in
   * between were missed, so clients should catch up by seq). The memory bus never loses it.
   */
  onResubscribed?(cb: () => void): () => void;
  ping(): Promise<void>;
  close(): Promise<void>;
}
