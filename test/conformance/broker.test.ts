import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/bus/redis/connect-redis.js';
import { RedisBroker } from '../../src/bus/redis/redis-broker.js';
import type { DomainEvent } from '../../src/domain/events.js';
import { chatTopic, userTopic, type Broker, type Topic } from '../../src/ports/broker.js';
import { silentLogger } from '../../src/ports/logger.js';
import { brokerImplementations, redisImplementation, type BrokerCluster } from '../support/broker-implementations.js';
import { recordingLogger } from '../support/recording-logger.js';
import { deleteKeys, randomPrefix, TEST_REDIS_URL } from '../support/redis.js';
import { sleep, waitFor } from '../support/wait.js';

const implementations = await brokerImplementations();

/** A small event whose chatId numbers it. */
function event(n: number, tag = 'x'): DomainEvent {
  return { type: 'chat.deleted', chatId: n, actorId: tag };
}
const numbers = (events: DomainEvent[], tag?: string): number[] =>
  events.filter((e) => e.type === 'chat.deleted' && (tag === undefined || e.actorId === tag)).map((e) => (e as { chatId: number }).chatId);

/** Collects what a handler receives. */
function collector(): { got: DomainEvent[]; topics: Topic[]; handler: (e: DomainEvent, t: Topic) => void } {
  const got: DomainEvent[] = [];
  const topics: Topic[] = [];
  return { got, topics, handler: (e, t) => void (got.push(e), topics.push(t)) };
}

describe.each(implementations)('Broker conformance: $name', (impl) => {
  const clusters: BrokerCluster[] = [];
  const cluster = (): BrokerCluster => {
    const c = impl.cluster();
    clusters.push(c);
    return c;
  };
  afterEach(async () => {
    for (const c of clusters.splice(0)) await c.close();
  });

  it('delivers the events of one topic in publish order', async () => {
    const broker = await cluster().open();
    const c = collector();
    await broker.subscribe('t', c.handler);
    for (let i = 0; i < 500; i++) broker.publish('t', event(i));
    await waitFor(() => c.got.length >= 500, 10_000, '500 events');
    expect(numbers(c.got)).toEqual([...Array(500).keys()]);
  });

  it('delivers the event itself, intact (JSON round trip), with the topic it came on', async () => {
    const broker = await cluster().open();
    const c = collector();
    await broker.subscribe(chatTopic(7), c.handler);
    const sent: DomainEvent = { type: 'typing', chatId: 7, userId: 'u1', username: 'ü "quoted"', isTyping: true };
    broker.publish(chatTopic(7), sent);
    await waitFor(() => c.got.length === 1, 5000, 'event');
    expect(c.got[0]).toEqual(sent);
    expect(c.topics).toEqual(['chat:7']);
  });

  it('keeps topics apart: a handler sees only the topics it subscribed to', async () => {
    const k = cluster();
    const a = await k.open();
    const b = await k.open();
    const onChat = collector();
    const onUser = collector();
    await b.subscribe(chatTopic(1), onChat.handler);
    await b.subscribe(userTopic('1'), onUser.handler);
    for (let i = 0; i < 20; i++) {
      a.publish(chatTopic(1), event(i, 'chat'));
      a.publish(userTopic('1'), event(i, 'user'));
      a.publish(chatTopic(2), event(i, 'other'));
      a.publish('chat:1x', event(i, 'other'));
    }
    a.publish(chatTopic(1), event(-1, 'end'));
    a.publish(userTopic('1'), event(-1, 'end'));
    await waitFor(() => numbers(onChat.got, 'end').length === 1 && numbers(onUser.got, 'end').length === 1, 5000, 'end markers');
    await sleep(50);
    expect(numbers(onChat.got, 'chat')).toEqual([...Array(20).keys()]);
    expect(numbers(onUser.got, 'user')).toEqual([...Array(20).keys()]);
    expect(numbers(onChat.got, 'user').concat(numbers(onUser.got, 'chat'), numbers(onChat.got, 'other'), numbers(onUser.got, 'other'))).toEqual([]);
    expect(new Set(onChat.topics)).toEqual(new Set(['chat:1']));
  });

  it('gives every subscription, on every instance, each event exactly once', async () => {
    const k = cluster();
    const a = await k.open();
    const b = await k.open();
    const first = collector();
    const second = collector();
    const onB = collector();
    await a.subscribe('t', first.handler);
    await a.subscribe('t', second.handler);
    await b.subscribe('t', onB.handler);
    for (let i = 0; i < 50; i++) a.publish('t', event(i));
    a.publish('t', event(-1, 'end'));
    for (const c of [first, second, onB]) await waitFor(() => numbers(c.got, 'end').length === 1, 5000, 'end marker');
    await sleep(100);
    for (const c of [first, second, onB]) expect(numbers(c.got, 'x')).toEqual([...Array(50).keys()]);
  });

  it("lets two instances see each other's events on a topic, each publisher's order kept", async () => {
    const k = cluster();
    const a = await k.open();
    const b = await k.open();
    const onA = collector();
    const onB = collector();
    await a.subscribe('t', onA.handler);
    await b.subscribe('t', onB.handler);
    for (let i = 0; i < 100; i++) {
      a.publish('t', event(i, 'a'));
      b.publish('t', event(i, 'b'));
    }
    await waitFor(() => onA.got.length === 200 && onB.got.length === 200, 10_000, 'both streams');
    for (const c of [onA, onB]) {
      expect(numbers(c.got, 'a')).toEqual([...Array(100).keys()]);
      expect(numbers(c.got, 'b')).toEqual([...Array(100).keys()]);
    }
  });

  it('publishes one event to several topics with publishMany (or publish per topic)', async () => {
    const k = cluster();
    const a = await k.open();
    const b = await k.open();
    const seen = collector();
    for (const t of ['m1', 'm2', 'm3']) await b.subscribe(t, seen.handler);
    const topics = ['m1', 'm2', 'm3', 'nobody'];
    if (a.publishMany) a.publishMany(topics, event(5));
    else for (const t of topics) a.publish(t, event(5));
    await waitFor(() => seen.got.length === 3, 5000, 'three copies');
    expect([...seen.topics].sort()).toEqual(['m1', 'm2', 'm3']);
  });

  it('is live when subscribe resolves: an event published right after, from another instance, arrives', async () => {
    const k = cluster();
    const a = await k.open();
    const b = await k.open();
    for (let round = 0; round < 5; round++) {
      const c = collector();
      const off = await b.subscribe(`live-${round}`, c.handler);
      a.publish(`live-${round}`, event(round));
      await waitFor(() => c.got.length === 1, 5000, `event of round ${round}`);
      off();
    }
  });

  it('keeps separate buses (prefixes) apart', async () => {
    const one = await cluster().open();
    const other = await cluster().open();
    const onOther = collector();
    await other.subscribe('t', onOther.handler);
    for (let i = 0; i < 20; i++) one.publish('t', event(i));
    other.publish('t', event(-1, 'end'));
    await waitFor(() => numbers(onOther.got, 'end').length === 1, 5000, 'end marker');
    await sleep(100);
    expect(numbers(onOther.got, 'x')).toEqual([]);
  });

  it('counts interest: the last handler leaving ends the remote subscription, the others keep receiving', async () => {
    const k = cluster();
    const broker = await k.open();
    const kept = collector();
    const dropped = collector();
    const offKept = await broker.subscribe('rc', kept.handler);
    const offDropped = await broker.subscribe('rc', dropped.handler);
    expect(await k.remoteSubscribers('rc')).toBeOneOf([1, null]);
    broker.publish('rc', event(1));
    await waitFor(() => dropped.got.length === 1 && kept.got.length === 1, 5000, 'first event');
    offDropped();
    offDropped(); // idempotent: must not take the other handler's share
    broker.publish('rc', event(2));
    await waitFor(() => kept.got.length === 2, 5000, 'second event');
    expect(numbers(dropped.got)).toEqual([1]);
    expect(await k.remoteSubscribers('rc')).toBeOneOf([1, null]);
    offKept();
    if ((await k.remoteSubscribers('rc')) !== null) await waitFor(async () => (await k.remoteSubscribers('rc')) === 0, 5000, 'remote unsubscribe');
    broker.publish('rc', event(3));
    const again = collector();
    await broker.subscribe('rc', again.handler);
    broker.publish('rc', event(4));
    await waitFor(() => again.got.length >= 1, 5000, 'event after subscribing again');
    expect(numbers(again.got)).toEqual([4]);
    expect(numbers(kept.got)).toEqual([1, 2]);
  });

  it('batches: many topics subscribed in one tick become live together, and dropping then retaking a topic in one tick keeps it', async () => {
    const k = cluster();
    const a = await k.open();
    const b = await k.open();
    const c = collector();
    const topics = Array.from({ length: 300 }, (_, i) => `batch-${i}`);
    const offs = await Promise.all(topics.map((t) => b.subscribe(t, c.handler)));
    for (const t of topics) a.publish(t, event(1, t));
    await waitFor(() => c.got.length === 300, 10_000, 'one event per topic');
    // Off and on again in the same tick: never unsubscribed remotely, still live.
    offs[0]!();
    const back = await b.subscribe(topics[0]!, c.handler);
    a.publish(topics[0]!, event(2, topics[0]));
    await waitFor(() => numbers(c.got, topics[0]).length === 2, 5000, 'event after retaking');
    expect(await k.remoteSubscribers(topics[0]!)).toBeOneOf([1, null]);
    back();
    for (const off of offs.slice(1)) off();
    if ((await k.remoteSubscribers(topics[299]!)) !== null) await waitFor(async () => (await k.remoteSubscribers(topics[299]!)) === 0, 5000, 'batch unsubscribed');
  });

  it('logs and skips a throwing handler: the others and the later events still run', async () => {
    const log = recordingLogger();
    const broker = await cluster().open(log);
    const kept = collector();
    await broker.subscribe('t', () => {
      throw new Error('handler bug');
    });
    await broker.subscribe('t', kept.handler);
    broker.publish('t', event(1));
    broker.publish('t', event(2));
    await waitFor(() => kept.got.length === 2, 5000, 'both events');
    expect(numbers(kept.got)).toEqual([1, 2]);
    const errors = log.lines.filter((l) => l.includes('"level":"error"') && l.includes('handler bug'));
    expect(errors.length).toBe(2);
  });

  it('never runs a handler inside publish', async () => {
    const broker = await cluster().open();
    let calls = 0;
    await broker.subscribe('t', () => void calls++);
    broker.publish('t', event(1));
    expect(calls).toBe(0);
    await waitFor(() => calls === 1, 5000, 'asynchronous delivery');
  });

  it('answers ping while up', async () => {
    const broker = await cluster().open();
    await expect(broker.ping()).resolves.toBeUndefined();
  });
});

describe.runIf(implementations.includes(redisImplementation))('RedisBroker specifics', () => {
  it('publishes on `${prefix}t:<topic>` with the publishing instance id in the envelope', async () => {
    const prefix = randomPrefix();
    const pub = await connectRedis(TEST_REDIS_URL, 'test-pub', silentLogger);
    const sub = await connectRedis(TEST_REDIS_URL, 'test-sub', silentLogger);
    const raw = await connectRedis(TEST_REDIS_URL, 'test-raw', silentLogger);
    try {
      const broker = new RedisBroker(pub, sub, { prefix, instanceId: 'instance-42' });
      await broker.start();
      const seen: string[] = [];
      raw.on('message', (channel: string, text: string) => seen.push(`${channel} ${text}`));
      await raw.subscribe(`${prefix}t:chat:3`);
      broker.publish(chatTopic(3), event(3));
      await waitFor(() => seen.length === 1, 5000, 'raw message');
      const [channel, text] = [seen[0]!.split(' ')[0], seen[0]!.slice(seen[0]!.indexOf(' ') + 1)];
      expect(channel).toBe(`${prefix}t:chat:3`);
      expect(JSON.parse(text)).toEqual({ i: 'instance-42', e: event(3) });
      await broker.close();
    } finally {
      for (const c of [pub, sub, raw]) c.disconnect();
      await deleteKeys(prefix);
    }
  });

  it('ignores malformed messages on its channels and keeps delivering', async () => {
    const prefix = randomPrefix();
    const pub = await connectRedis(TEST_REDIS_URL, 'test-pub', silentLogger);
    const sub = await connectRedis(TEST_REDIS_URL, 'test-sub', silentLogger);
    try {
      const broker = new RedisBroker(pub, sub, { prefix, instanceId: 'i' });
      await broker.start();
      const c = collector();
      await broker.subscribe('t', c.handler);
      for (const junk of ['not json', '{"x":1}', 'null', '{"i":"z","e":{}}']) await pub.publish(`${prefix}t:t`, junk);
      broker.publish('t', event(9));
      await waitFor(() => c.got.length >= 1, 5000, 'the valid event');
      await sleep(50);
      expect(c.got).toEqual([event(9)]);
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
      const broker: Broker & { dropped: number } = new RedisBroker(pub, sub, { prefix, instanceId: 'i' });
      await (broker as RedisBroker).start();
      pub.disconnect();
      for (let i = 0; i < 10_000; i++) broker.publish('t', event(i));
      broker.publishMany?.(['a', 'b'], event(0));
      await waitFor(() => broker.dropped === 10_002, 5000, 'every event counted as dropped');
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
