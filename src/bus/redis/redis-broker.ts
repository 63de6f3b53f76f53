import type { Redis } from 'ioredis';
import type { DomainEvent } from '../../domain/events.js';
import type { Broker, EventHandler, Topic } from '../../ports/broker.js';
import { silentLogger, type Logger } from '../../ports/logger.js';
import { deliverToHandlers, DropCounter, encodeEnvelope, interestChanges, notifyResubscribed, type Subscription } from './topic-channels.js';

export interface RedisBrokerOptions {
  /** Key/channel prefix (REDIS_PREFIX): brokers on different prefixes never see each other. */
  readonly prefix: string;
  /** This server process; carried in every envelope so an instance can recognise its own events. */
  readonly instanceId: string;
  readonly log?: Logger;
}

/** Channels per SUBSCRIBE/UNSUBSCRIBE command, so a reconnect with many topics sends bounded commands. */
const CHANNELS_PER_COMMAND = 1000;

/**
 * The bus across instances: Redis pub/sub, one channel per topic (`${prefix}t:${topic}`), over
 * two connections (a publisher and a dedicated subscriber; a subscribed connection can do
 * nothing else). An instance subscribes only the topics its local handlers asked for, so it
 * receives (and parses, once per event) only what concerns its sessions.
 *
 * Guarantees (the `Broker` port's): **at-most-once**; events one instance publishes on one topic
 * reach every subscriber of it in publish order (one connection, one channel: Redis keeps the
 * order); an event published while Redis or a subscriber's link is down is lost, and clients
 * catch up by `seq` from the store. Publishing while Redis is down neither throws nor blocks nor
 * queues: the event is dropped and counted (`dropped`), with a warning at most every 5 s.
 *
 * Interest is ref-counted: the first local handler of a topic adds it to the next batch, the
 * last one leaving removes it; the batch goes out on the next `setImmediate` as one SUBSCRIBE
 * and one UNSUBSCRIBE (chunked), and a topic dropped and taken again within it costs nothing.
 * `subscribe` resolves once Redis has confirmed (or the attempt failed while the link is down:
 * the topic stays wanted and is subscribed on reconnect; waiting for Redis would hang a
 * client's connect on an outage). After a lost link, every wanted topic is subscribed again
 * and unwanted ones dropped, then `onResubscribed` callbacks fire so the realtime layer can tell
 * clients to catch up.
 *
 * The broker does not own its connections: whoever opened them closes them after `close()`.
 */
export class RedisBroker implements Broker {
  readonly kind = 'redis' as const;
  /** What precedes a topic in its channel name. */
  readonly channelPrefix: string;
  private readonly handlers = new Map<Topic, Set<Subscription>>();
  /** Topics this broker has asked Redis for (sent or confirmed). */
  private readonly remote = new Set<Topic>();
  /** The SUBSCRIBE that made a topic remote, for later subscribers to wait on. */
  private readonly ready = new Map<Topic, Promise<void>>();
  /** Topics whose wanted/remote state may differ, settled by the next flush. */
  private readonly dirty = new Set<Topic>();
  /** Topics whose UNSUBSCRIBE failed (link down): dropped again after the reconnect. */
  private readonly stale = new Set<Topic>();
  private flushing: Promise<void> | null = null;
  private readonly resubscribed = new Set<() => void>();
  private readonly log: Logger;
  private readonly drops: DropCounter;
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
    this.channelPrefix = `${options.prefix}t:`;
    this.log = options.log ?? silentLogger;
    this.drops = new DropCounter(this.log, 'redis');
  }

  get instanceId(): string {
    return this.options.instanceId;
  }

  /** Events dropped because Redis was unreachable when they were published. */
  get dropped(): number {
    return this.drops.dropped;
  }

  /** Topics subscribed on Redis right now (tests and metrics). */
  get topicCount(): number {
    return this.remote.size;
  }

  /** The Redis channel of a topic. */
  channelOf(topic: Topic): string {
    return this.channelPrefix + topic;
  }

  /** Listens on the subscriber connection; topics are subscribed as handlers ask for them. */
  async start(): Promise<void> {
    this.subscriber.on('message', this.onMessage);
    this.subscriber.on('ready', this.onReady);
    this.subscriber.on('close', this.onClose);
    this.started = true;
  }

  publish(topic: Topic, event: DomainEvent): void {
    if (this.closed) return;
    if (this.publisher.status !== 'ready') {
      this.drops.drop();
      return;
    }
    this.send(topic, encodeEnvelope(this.options.instanceId, event));
  }

  publishMany(topics: readonly Topic[], event: DomainEvent): void {
    if (this.closed || topics.length === 0) return;
    if (this.publisher.status !== 'ready') {
      for (let i = 0; i < topics.length; i++) this.drops.drop();
      return;
    }
    const text = encodeEnvelope(this.options.instanceId, event);
    for (const topic of topics) this.send(topic, text);
  }

  async subscribe(topic: Topic, handler: EventHandler): Promise<() => void> {
    if (this.closed) return () => {};
    let subs = this.handlers.get(topic);
    const first = !subs;
    if (!subs) this.handlers.set(topic, (subs = new Set()));
    const sub: Subscription = { handler };
    subs.add(sub);
    const off = (): void => {
      const current = this.handlers.get(topic);
      if (!current?.delete(sub)) return;
      if (current.size > 0) return;
      this.handlers.delete(topic);
      this.dirty.add(topic);
      void this.flushSoon();
    };
    if (first) {
      this.dirty.add(topic);
      await this.flushSoon();
    }
    await this.ready.get(topic);
    return off;
  }

  /** `cb` runs each time every topic is subscribed again after a lost link (not at start). */
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
    await this.flushing;
    const channels = [...this.remote].map((t) => this.channelOf(t));
    this.handlers.clear();
    this.remote.clear();
    this.ready.clear();
    this.dirty.clear();
    this.resubscribed.clear();
    if (this.subscriber.status === 'ready') for (const chunk of chunks(channels)) await this.subscriber.unsubscribe(...chunk).catch(() => {});
  }

  private send(topic: Topic, text: string): void {
    this.publisher.publish(this.channelOf(topic), text).catch(() => this.drops.drop());
  }

  private flushSoon(): Promise<void> {
    this.flushing ??= new Promise<void>((resolve) => {
      setImmediate(() => {
        this.flushing = null;
        void this.flush().then(resolve);
      });
    });
    return this.flushing;
  }

  /** Sends what changed since the last flush: one SUBSCRIBE and one UNSUBSCRIBE (chunked). */
  private async flush(): Promise<void> {
    if (this.closed) return;
    const { add, drop } = interestChanges(this.dirty, this.handlers, this.remote);
    const work: Promise<void>[] = [];
    for (const chunk of chunks(drop)) {
      for (const topic of chunk) {
        this.remote.delete(topic);
        this.ready.delete(topic);
      }
      work.push(
        this.subscriber.unsubscribe(...chunk.map((t) => this.channelOf(t))).then(
          () => undefined,
          () => {
            for (const topic of chunk) this.stale.add(topic);
          },
        ),
      );
    }
    for (const chunk of chunks(add)) {
      const done = this.subscriber.subscribe(...chunk.map((t) => this.channelOf(t))).then(
        () => undefined,
        (err: unknown) => {
          // Still wanted: the reconnect subscribes every wanted topic again.
          this.log.warn({ err: { message: (err as Error).message }, topics: chunk.length }, 'redis subscribe failed; will subscribe after reconnect');
        },
      );
      for (const topic of chunk) {
        this.remote.add(topic);
        this.stale.delete(topic);
        this.ready.set(topic, done);
      }
      work.push(done);
    }
    await Promise.all(work);
  }

  private receive(channel: string, text: string): void {
    if (!channel.startsWith(this.channelPrefix)) return;
    const topic = channel.slice(this.channelPrefix.length);
    const subs = this.handlers.get(topic);
    if (!subs) return; // an unsubscribe in flight: not parsed at all
    deliverToHandlers(text, channel, topic, subs, this.log);
  }

  /**
   * ioredis has already queued its own re-SUBSCRIBE of what it knew when 'ready' fires; this
   * subscribes every wanted topic again (idempotent, and covers subscribes that failed while
   * down), drops the ones unsubscribed while down, and resolves once Redis has confirmed, which
   * is the moment events flow again.
   */
  private async afterReconnect(): Promise<void> {
    if (!this.lostLink || this.closed) return;
    this.lostLink = false;
    const wanted = [...this.handlers.keys()];
    const unwanted = [...new Set([...this.stale, ...this.remote])].filter((t) => !this.handlers.has(t));
    try {
      for (const chunk of chunks(wanted)) await this.subscriber.subscribe(...chunk.map((t) => this.channelOf(t)));
      for (const chunk of chunks(unwanted)) await this.subscriber.unsubscribe(...chunk.map((t) => this.channelOf(t)));
    } catch (err) {
      this.lostLink = true;
      this.log.warn({ err: { message: (err as Error).message } }, 'redis resubscribe failed; will retry on next reconnect');
      return;
    }
    this.stale.clear();
    for (const topic of unwanted) {
      this.remote.delete(topic);
      this.ready.delete(topic);
    }
    for (const topic of wanted) this.remote.add(topic);
    this.log.info({ topics: wanted.length }, 'redis bus resubscribed');
    notifyResubscribed(this.resubscribed, this.log);
  }
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHANNELS_PER_COMMAND) out.push(items.slice(i, i + CHANNELS_PER_COMMAND));
  return out;
}
