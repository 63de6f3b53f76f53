import type { Cluster } from 'ioredis';
import type { DomainEvent } from '../../domain/events.js';
import type { Broker, EventHandler, Topic } from '../../ports/broker.js';
import { silentLogger, type Logger } from '../../ports/logger.js';
import { deliverToHandlers, DropCounter, encodeEnvelope, interestChanges, notifyResubscribed, type Subscription } from './topic-channels.js';
import { clusterSlot } from './cluster-slot.js';

export interface RedisClusterBrokerOptions {
  /** REDIS_PREFIX: brokers on different prefixes never see each other. */
  readonly prefix: string;
  /** This server process; carried in every envelope. */
  readonly instanceId: string;
  readonly log?: Logger;
}

/**
 * The bus on Redis Cluster (≥ 7) with **sharded pub/sub**: one shard channel per topic
 * (`${prefix}t:${topic}`, no hash tag, so every topic hashes to a slot of its own and topics
 * spread over the masters). `SPUBLISH` goes to the master owning the channel's slot and only
 * that shard carries it, so the cluster bus does not copy every event to every node as classic
 * `PUBLISH` does; an instance holds one subscriber connection per master it has topics on
 * (ioredis `Cluster` with `shardedSubscribers: true`).
 *
 * Guarantees (the topic `Broker` port's): **at-most-once**; events one instance publishes on
 * one topic reach every subscriber of it in publish order (one publisher connection per master
 * and one slot per topic: that master keeps the order; a slot migration or failover in the
 * middle may lose events, never reorder a delivered pair on one connection); an event published
 * while its master or a subscriber's link is down is lost, and clients catch up by `seq` from
 * the store. `publish` never throws, blocks or queues: an unreachable cluster drops and counts.
 *
 * Interest is ref-counted and batched like `RedisBroker`'s: the first local handler of a topic
 * marks it, the last one leaving unmarks it, and on the next `setImmediate` the changes go out
 * as one SSUBSCRIBE and one SUNSUBSCRIBE **per slot** (a command may only name channels of one
 * slot); a topic dropped and taken again within the tick costs nothing. `subscribe` resolves
 * once the master confirmed (or the attempt failed while it is down: the topic stays wanted and
 * is subscribed again after the reconnect).
 *
 * After a subscriber link is lost (a master restarted, failed over, or slots moved), ioredis
 * rebuilds its per-master subscribers and emits `subscribersReady`; the broker then subscribes
 * every wanted topic again, awaiting the confirmations, and only then runs the `onResubscribed`
 * callbacks (a failed round stays pending for the next `subscribersReady`).
 *
 * The broker does not own its connections: whoever opened them closes them after `close()`.
 */
export class RedisClusterBroker implements Broker {
  readonly kind = 'redis-cluster' as const;
  /** What precedes a topic in its shard channel name. */
  readonly channelPrefix: string;
  private readonly handlers = new Map<Topic, Set<Subscription>>();
  /** Topics this broker has asked the cluster for (sent or confirmed). */
  private readonly remote = new Set<Topic>();
  /** The SSUBSCRIBE that made a topic remote, for later subscribers to wait on. */
  private readonly ready = new Map<Topic, Promise<void>>();
  /** Topics whose wanted/remote state may differ, settled by the next flush. */
  private readonly dirty = new Set<Topic>();
  private flushScheduled: Promise<void> | null = null;
  private readonly resubscribed = new Set<() => void>();
  private readonly log: Logger;
  private readonly drops: DropCounter;
  private started = false;
  private closed = false;
  private lostLink = false;
  private resubscribing: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private lastSubscribeWarn = 0;
  private readonly onMessage = (channel: string, text: string): void => this.receive(channel, text);
  private readonly onLost = (): void => {
    if (this.started) this.lostLink = true;
  };
  private readonly onSubscribersReady = (): void => void this.afterReconnect();

  constructor(
    private readonly publisher: Cluster,
    /** A `Cluster` opened with `shardedSubscribers: true`, used for nothing else. */
    private readonly subscriber: Cluster,
    private readonly options: RedisClusterBrokerOptions,
  ) {
    this.channelPrefix = `${options.prefix}t:`;
    this.log = options.log ?? silentLogger;
    this.drops = new DropCounter(this.log, 'redis cluster');
  }

  get instanceId(): string {
    return this.options.instanceId;
  }

  /** Events dropped because the cluster was unreachable when they were published. */
  get dropped(): number {
    return this.drops.dropped;
  }

  channelOf(topic: Topic): string {
    return `${this.channelPrefix}${topic}`;
  }

  async start(): Promise<void> {
    this.subscriber.on('smessage', this.onMessage);
    this.subscriber.on('-subscriber', this.onLost);
    this.subscriber.on('-node', this.onLost);
    this.subscriber.on('subscribersReady', this.onSubscribersReady);
    this.started = true;
  }

  publish(topic: Topic, event: DomainEvent): void {
    this.send([topic], event);
  }

  /** The event serialized once, then one SPUBLISH per topic (each to its own slot's master). */
  publishMany(topics: readonly Topic[], event: DomainEvent): void {
    this.send(topics, event);
  }

  async subscribe(topic: Topic, handler: EventHandler): Promise<() => void> {
    if (this.closed) return () => {};
    const subscription: Subscription = { handler };
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(subscription);
    let removed = false;
    const remove = (): void => {
      if (removed) return;
      removed = true;
      const current = this.handlers.get(topic);
      if (!current?.delete(subscription) || current.size > 0) return;
      this.handlers.delete(topic);
      this.markDirty(topic);
    };
    if (!this.remote.has(topic)) this.markDirty(topic);
    await this.flushScheduled;
    await this.ready.get(topic);
    return remove;
  }

  onResubscribed(cb: () => void): () => void {
    this.resubscribed.add(cb);
    return () => this.resubscribed.delete(cb);
  }

  /** Both sides must be usable: a broker that cannot receive is not ready either. */
  async ping(): Promise<void> {
    if (this.subscriber.status !== 'ready') throw new Error(`redis cluster subscriber is ${this.subscriber.status}`);
    await this.publisher.ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.subscriber.off('smessage', this.onMessage);
    this.subscriber.off('-subscriber', this.onLost);
    this.subscriber.off('-node', this.onLost);
    this.subscriber.off('subscribersReady', this.onSubscribersReady);
    await this.flushScheduled?.catch(() => {});
    const topics = [...this.remote];
    this.handlers.clear();
    this.resubscribed.clear();
    this.remote.clear();
    this.ready.clear();
    if (this.subscriber.status === 'ready' && topics.length > 0) await this.command('sunsubscribe', topics).catch(() => {});
  }

  private send(topics: readonly Topic[], event: DomainEvent): void {
    if (this.closed || topics.length === 0) return;
    if (this.publisher.status !== 'ready') {
      for (let i = 0; i < topics.length; i++) this.drops.drop();
      return;
    }
    const text = encodeEnvelope(this.options.instanceId, event);
    for (const topic of topics) this.publisher.spublish(this.channelOf(topic), text).catch(() => this.drops.drop());
  }

  private markDirty(topic: Topic): void {
    this.dirty.add(topic);
    this.flushScheduled ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  /** One tick's interest changes: one SSUBSCRIBE and one SUNSUBSCRIBE per slot. */
  private async flush(): Promise<void> {
    this.flushScheduled = null;
    if (this.closed) return;
    const { add, drop } = interestChanges(this.dirty, this.handlers, this.remote);
    for (const t of add) this.remote.add(t);
    for (const t of drop) {
      this.remote.delete(t);
      this.ready.delete(t);
    }
    const subscribing = this.command('ssubscribe', add).catch((err: Error) => {
      // The topics stay wanted: the next subscribersReady (or the retry) subscribes them again.
      this.subscribeFailed(err);
    });
    for (const t of add) this.ready.set(t, subscribing);
    const unsubscribing = this.command('sunsubscribe', drop).catch((err: Error) => {
      this.log.debug({ err: { message: err.message } }, 'redis cluster unsubscribe failed (the link is down; the subscription went with it)');
    });
    await Promise.all([subscribing, unsubscribing]);
  }

  /** SSUBSCRIBE/SUNSUBSCRIBE grouped by slot, all slots at once. */
  private async command(name: 'ssubscribe' | 'sunsubscribe', topics: readonly Topic[]): Promise<void> {
    if (topics.length === 0) return;
    const bySlot = new Map<number, string[]>();
    for (const topic of topics) {
      const channel = this.channelOf(topic);
      const slot = clusterSlot(channel);
      let list = bySlot.get(slot);
      if (!list) bySlot.set(slot, (list = []));
      list.push(channel);
    }
    await Promise.all([...bySlot.values()].map((channels) => this.subscriber[name](...channels)));
  }

  private receive(channel: string, text: string): void {
    if (!channel.startsWith(this.channelPrefix)) return;
    const topic = channel.slice(this.channelPrefix.length);
    const set = this.handlers.get(topic);
    if (!set) return;
    deliverToHandlers(text, channel, topic, set, this.log);
  }

  /** Every wanted topic subscribed again (idempotent on the server), then the callbacks. */
  private async afterReconnect(): Promise<void> {
    if (!this.lostLink || this.closed) return;
    if (this.resubscribing) return;
    this.resubscribing = (async () => {
      this.lostLink = false;
      const topics = [...this.handlers.keys()];
      for (const t of topics) this.remote.add(t);
      try {
        await this.command('ssubscribe', topics);
      } catch (err) {
        this.subscribeFailed(err as Error);
        return;
      }
      this.log.info({ topics: topics.length }, 'redis cluster bus resubscribed');
      notifyResubscribed(this.resubscribed, this.log);
    })().finally(() => {
      this.resubscribing = null;
      // Lost again while this round ran: go again rather than wait for an event that came already.
      if (this.lostLink) this.scheduleRetry();
    });
  }

  /** Marks the link lost and tries again in 2 s (or at the next subscribersReady, if sooner). */
  private subscribeFailed(err: Error): void {
    this.lostLink = true;
    const now = Date.now();
    if (now - this.lastSubscribeWarn >= 5000) {
      this.lastSubscribeWarn = now;
      this.log.warn({ err: { message: err.message } }, 'redis cluster subscribe failed; retrying');
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.afterReconnect();
    }, 2000);
    this.retryTimer.unref();
  }
}
