import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../src/bus/memory-broker.js';
import { connectRedis } from '../../src/bus/redis/connect-redis.js';
import { RedisBroker } from '../../src/bus/redis/redis-broker.js';
import type { DomainEvent } from '../../src/domain/events.js';
import type { Broker } from '../../src/ports/broker.js';
import { silentLogger } from '../../src/ports/logger.js';
import { deleteKeys, randomPrefix, redisEnabled, TEST_REDIS_URL } from '../support/redis.js';
import { sleep, waitFor } from '../support/wait.js';

/** Brokers sharing one bus (one prefix): `open()` is another server instance joining it. */
interface Cluster {
  open(): Promise<Broker>;
  close(): Promise<void>;
}
interface Implementation {
  readonly name: string;
  cluster(): Cluster;
}

const memory: Implementation = {
  name: 'memory',
  // One process is one instance: every "instance" of a memory cluster is the same bus.
  cluster() {
    const broker = new MemoryBroker();
    return { open: async () => broker, close: () => broker.close() };
  },
};

const redis: Implementation = {
  name: 'redis',
  cluster() {
    const prefix = randomPrefix();
    const brokers: RedisBroker[] = [];
    const clients: Redis[] = [];
    return {
      async open() {
        const pub = await connectRedis(TEST_REDIS_URL, 'test-pub', silentLogger);
        const sub = await connectRedis(TEST_REDIS_URL, 'test-sub', silentLogger);
        clients.push(pub, sub);
        const broker = new RedisBroker(pub, sub, { prefix, instanceId: `i${brokers.length}` });
        await broker.start();
        brokers.push(broker);
        return broker;
      },
      async close() {
        for (const b of brokers) await b.close();
        for (const c of clients) c.disconnect();
        await deleteKeys(prefix);
      },
    };
  },
};

const implementations = (await redisEnabled()) ? [memory, redis] : [memory];

/** A small event whose chatId numbers it. */
function event(n: number, tag = 'x'): DomainEvent {
  return { type: 'chat.deleted', chatId: n, memberIds: [tag], actorId: tag };
}
const numbers = (events: DomainEvent[], tag?: string): number[] =>
  events.filter((e) => e.type === 'chat.deleted' && (tag === undefined || e.actorId === tag)).map((e) => (e as { chatId: number }).chatId);

describe.each(implementations)('Broker conformance: $name', (impl) => {
  const clusters: Cluster[] = [];
  const cluster = (): Cluster => {
    const c = impl.cluster();
    clusters.push(c);
    return c;
  };
  afterEach(async () => {
    for (const c of clusters.splice(0)) await c.close();
  });

  it('delivers events in publish order', async () => {
    const broker = await cluster().open();
    const got: DomainEvent[] = [];
    broker.subscribe((e) => got.push(e));
    for (let i = 0; i < 500; i++) broker.publish(event(i));
    await waitFor(() => got.length >= 500, 10_000, '500 events');
    expect(numbers(got)).toEqual([...Array(500).keys()]);
  });

  it('delivers the event itself, intact (JSON round trip)', async () => {
    const broker = await cluster().open();
    const got: DomainEvent[] = [];
    broker.subscribe((e) => got.push(e));
    const sent: DomainEvent = { type: 'typing', chatId: 7, userId: 'u1', isTyping: true, memberIds: ['u1', 'u2'] } as unknown as DomainEvent;
    broker.publish(sent);
    await waitFor(() => got.length === 1, 5000, 'event');
    expect(got[0]).toEqual(sent);
  });

  it('gives every subscriber, on every instance, each event exactly once', async () => {
    const c = cluster();
    const a = await c.open();
    const b = await c.open();
    const first: DomainEvent[] = [];
    const second: DomainEvent[] = [];
    const onB: DomainEvent[] = [];
    a.subscribe((e) => first.push(e));
    a.subscribe((e) => second.push(e));
    b.subscribe((e) => onB.push(e));
    for (let i = 0; i < 50; i++) a.publish(event(i));
    a.publish(event(-1, 'end'));
    // The end marker comes after every event in publish order; duplicates would have arrived too.
    for (const got of [first, second, onB]) await waitFor(() => numbers(got, 'end').length === 1, 5000, 'end marker');
    await sleep(100);
    for (const got of [first, second, onB]) expect(numbers(got, 'x')).toEqual([...Array(50).keys()]);
  });

  it("lets two instances on one prefix see each other's events, each publisher's order kept", async () => {
    const c = cluster();
    const a = await c.open();
    const b = await c.open();
    const onA: DomainEvent[] = [];
    const onB: DomainEvent[] = [];
    a.subscribe((e) => onA.push(e));
    b.subscribe((e) => onB.push(e));
    for (let i = 0; i < 100; i++) {
      a.publish(event(i, 'a'));
      b.publish(event(i, 'b'));
    }
    await waitFor(() => onA.length === 200 && onB.length === 200, 10_000, 'both streams');
    for (const got of [onA, onB]) {
      expect(numbers(got, 'a')).toEqual([...Array(100).keys()]);
      expect(numbers(got, 'b')).toEqual([...Array(100).keys()]);
    }
  });

  it('keeps separate buses (prefixes) apart', async () => {
    const one = await cluster().open();
    const other = await cluster().open();
    const onOther: DomainEvent[] = [];
    other.subscribe((e) => onOther.push(e));
    for (let i = 0; i < 20; i++) one.publish(event(i));
    other.publish(event(-1, 'end'));
    await waitFor(() => numbers(onOther, 'end').length === 1, 5000, 'end marker');
    await sleep(100);
    expect(numbers(onOther, 'x')).toEqual([]);
  });

  it('stops delivering to a handler once it unsubscribes', async () => {
    const broker = await cluster().open();
    const kept: DomainEvent[] = [];
    const dropped: DomainEvent[] = [];
    broker.subscribe((e) => kept.push(e));
    const off = broker.subscribe((e) => dropped.push(e));
    broker.publish(event(1));
    await waitFor(() => dropped.length === 1 && kept.length === 1, 5000, 'first event');
    off();
    broker.publish(event(2));
    await waitFor(() => kept.length === 2, 5000, 'second event');
    expect(numbers(dropped)).toEqual([1]);
  });

  it('keeps delivering to the other handlers and later events when a handler throws', async () => {
    const broker = await cluster().open();
    const kept: DomainEvent[] = [];
    broker.subscribe(() => {
      throw new Error('handler bug');
    });
    broker.subscribe((e) => kept.push(e));
    broker.publish(event(1));
    broker.publish(event(2));
    await waitFor(() => kept.length === 2, 5000, 'both events');
    expect(numbers(kept)).toEqual([1, 2]);
  });

  it('answers ping while up', async () => {
    const broker = await cluster().open();
    await expect(broker.ping()).resolves.toBeUndefined();
  });
});

describe.runIf(implementations.includes(redis))('RedisBroker specifics', () => {
  it('puts the publishing instance id in the envelope on `${prefix}events`', async () => {
    const prefix = randomPrefix();
    const pub = await connectRedis(TEST_REDIS_URL, 'test-pub', silentLogger);
    const sub = await connectRedis(TEST_REDIS_URL, 'test-sub', silentLogger);
    const raw = await connectRedis(TEST_REDIS_URL, 'test-raw', silentLogger);
    try {
      const broker = new RedisBroker(pub, sub, { prefix, instanceId: 'instance-42' });
      await broker.start();
      const seen: string[] = [];
      raw.on('message', (channel: string, text: string) => seen.push(`${channel} ${text}`));
      await raw.subscribe(`${prefix}events`);
      broker.publish(event(3));
      await waitFor(() => seen.length === 1, 5000, 'raw message');
      const [channel, text] = [seen[0]!.split(' ')[0], seen[0]!.slice(seen[0]!.indexOf(' ') + 1)];
      expect(channel).toBe(`${prefix}events`);
      expect(JSON.parse(text)).toEqual({ i: 'instance-42', e: event(3) });
      await broker.close();
    } finally {
      for (const c of [pub, sub, raw]) c.disconnect();
      await deleteKeys(prefix);
    }
  });

  it('ignores malformed messages on its channel and keeps delivering', async () => {
    const prefix = randomPrefix();
    const pub = await connectRedis(TEST_REDIS_URL, 'test-pub', silentLogger);
    const sub = await connectRedis(TEST_REDIS_URL, 'test-sub', silentLogger);
    try {
      const broker = new RedisBroker(pub, sub, { prefix, instanceId: 'i' });
      await broker.start();
      const got: DomainEvent[] = [];
      broker.subscribe((e) => got.push(e));
      for (const junk of ['not json', '{"x":1}', 'null', '{"i":"z","e":{}}']) await pub.publish(`${prefix}events`, junk);
      broker.publish(event(9));
      await waitFor(() => got.length >= 1, 5000, 'the valid event');
      await sleep(50);
      expect(got).toEqual([event(9)]);
      await broker.close();
    } finally {
      pub.disconnect();
      sub.disconnect();
      await deleteKeys(prefix);
    }
  });

  it('drops (and counts) events published while its link is down, without throwing', async () => {
    const prefix = randomPrefix();
    const pub = await connectRedis(TEST_REDIS_URL, 'test-pub', silentLogger);
    const sub = await connectRedis(TEST_REDIS_URL, 'test-sub', silentLogger);
    try {
      const broker = new RedisBroker(pub, sub, { prefix, instanceId: 'i' });
      await broker.start();
      pub.disconnect();
      for (let i = 0; i < 10_000; i++) broker.publish(event(i));
      await waitFor(() => broker.dropped === 10_000, 5000, 'every event counted as dropped');
      // Nothing was queued for later: the client holds no offline commands.
      expect((pub as unknown as { offlineQueue: { length: number } }).offlineQueue.length).toBe(0);
      await expect(broker.ping()).rejects.toThrow();
      await broker.close();
    } finally {
      pub.disconnect();
      sub.disconnect();
      await deleteKeys(prefix);
    }
  });
});
