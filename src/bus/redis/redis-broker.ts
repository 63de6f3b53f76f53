import type { Redis } from 'ioredis';
import type { DomainEvent } from '../../domain/events.js';
import type { Broker, EventHandler } from '../../ports/broker.js';
import { silentLogger, type Logger } from '../../ports/logger.js';

export interface RedisBrokerOptions {
  /** Key/channel prefix (REDIS_PREFIX): brokers on different prefixes never see each other. */
  readonly prefix: string;
  /** This server process; carried in every envelope so an instance can recognise its own events. */
  readonly instanceId: string;
  readonly log?: Logger;
}

/** What travels on the channel: the event plus the publishing instance. */
export interface Envelope {
  readonly i: string;
  readonly e: DomainEvent;
}

/**
 * The bus across instances: Redis pub/sub on one channel, `${prefix}events`, over two
 * connections (a publisher and a dedicated subscriber; a subscribed connection can do nothing
 * else). Each event is serialized once per publish and parsed once per receiving instance.
 *
 * Delivery guarantee: **at-most-once**. Events published by one instance reach every subscribed
 * instance in publish order (one connection, one channel: Redis keeps the order); an event
 * published while Redis or a subscriber's link is down is lost, and clients catch up by `seq`
 * from the store. Publishing while Redis is down neither throws nor blocks nor queues: the event
 * is dropped and counted (`dropped`), with a warning at most every 5 s.
 *
 * ioredis reconnects by itself and re-subscribes the subscriber connection after a Redis
 * restart; `onResubscribed` callbacks fire once the subscription is confirmed again, so the
 * realtime layer can tell clients to catch up.
 *
 * The broker does not own its connections: whoever opened them closes them after `close()`.
 */
export class RedisBroker implements Broker {
  readonly kind = 'redis' as const;
  readonly channel: string;
  private readonly handlers = new Set<EventHandler>();
  private readonly resubscribed = new Set<() => void>();
  private readonly log: Logger;
  private droppedCount = 0;
  private lastDropWarn = 0;
  private started = false;
  private closed = false;
  private lostLink = false;
  private readonly onMessage = (channel: string, text: string): void => this.receive(channel, text);
  private readonly onReady = (): void => void this.afterReconnect();
  private readonly onClose = (): void => {
    if (this.started) this.lostLink = true;
  };

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly options: RedisBrokerOptions,
  ) {
    this.channel = `${options.prefix}events`;
    this.log = options.log ?? silentLogger;
  }

  get instanceId(): string {
    return this.options.instanceId;
  }

  /** Events dropped because Redis was unreachable when they were published. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Subscribes the channel; events published before this resolves are not received. */
  async start(): Promise<void> {
    this.subscriber.on('message', this.onMessage);
    this.subscriber.on('ready', this.onReady);
    this.subscriber.on('close', this.onClose);
    await this.subscriber.subscribe(this.channel);
    this.started = true;
  }

  publish(event: DomainEvent): void {
    if (this.closed) return;
    if (this.publisher.status !== 'ready') {
      this.drop();
      return;
    }
    const envelope: Envelope = { i: this.options.instanceId, e: event };
    this.publisher.publish(this.channel, JSON.stringify(envelope)).catch(() => this.drop());
  }

  subscribe(handler: EventHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** `cb` runs each time the subscription is confirmed again after a lost link (not at start). */
  onResubscribed(cb: () => void): () => void {
    this.resubscribed.add(cb);
    return () => this.resubscribed.delete(cb);
  }

  /** Both links must be up: a broker that cannot receive is not ready either. */
  async ping(): Promise<void> {
    if (this.subscriber.status !== 'ready') throw new Error(`redis subscriber is ${this.subscriber.status}`);
    await this.publisher.ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscriber.off('message', this.onMessage);
    this.subscriber.off('ready', this.onReady);
    this.subscriber.off('close', this.onClose);
    this.handlers.clear();
    this.resubscribed.clear();
    if (this.subscriber.status === 'ready') await this.subscriber.unsubscribe(this.channel).catch(() => {});
  }

  private receive(channel: string, text: string): void {
    if (channel !== this.channel) return;
    let envelope: Envelope | null = null;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      // reported below
    }
    if (!envelope || typeof envelope !== 'object' || !envelope.e || typeof envelope.e.type !== 'string') {
      this.log.warn({ channel }, 'malformed bus message ignored');
      return;
    }
    for (const handler of this.handlers) {
      try {
        handler(envelope.e);
      } catch (err) {
        this.log.error({ err: { message: (err as Error).message } }, 'bus handler threw');
      }
    }
  }

  /**
   * ioredis has already queued its own re-SUBSCRIBE when 'ready' fires; subscribing again is
   * idempotent and resolves once Redis has confirmed, which is the moment events flow again.
   */
  private async afterReconnect(): Promise<void> {
    if (!this.lostLink || this.closed) return;
    this.lostLink = false;
    try {
      await this.subscriber.subscribe(this.channel);
    } catch (err) {
      this.log.warn({ err: { message: (err as Error).message } }, 'redis resubscribe failed; will retry on next reconnect');
      return;
    }
    this.log.info({ channel: this.channel }, 'redis bus resubscribed');
    for (const cb of this.resubscribed) {
      try {
        cb();
      } catch (err) {
        this.log.error({ err: { message: (err as Error).message } }, 'onResubscribed callback threw');
      }
    }
  }

  private drop(): void {
    this.droppedCount++;
    const now = Date.now();
    if (now - this.lastDropWarn < 5000) return;
    this.lastDropWarn = now;
    this.log.warn({ dropped: this.droppedCount, channel: this.channel }, 'redis unreachable: bus event dropped (at-most-once; clients catch up by seq)');
  }
}
