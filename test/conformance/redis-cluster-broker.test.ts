import { Redis, type Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clusterSlot } from '../../src/bus/redis/cluster-slot.js';
import { connectRedisCluster } from '../../src/bus/redis/connect-redis-cluster.js';
import { RedisClusterBroker } from '../../src/bus/redis/redis-cluster-broker.js';
import type { Topic } from '../../src/ports/broker.js';
import type { DomainEvent } from '../../src/domain/events.js';
import { silentLogger, type Logger } from '../../src/ports/logger.js';
import { recordingLogger } from '../support/recording-logger.js';
import { redisClusterEnabled, startRedisCluster, type TestRedisCluster } from '../support/redis-cluster.js';
import { randomPrefix } from '../support/redis.js';
import { sleep, waitFor } from '../support/wait.js';

/**
 * The sharded pub/sub broker on a real 3-master cluster of this file's own (started once):
 * the topic Broker port's guarantees (isolation, order per publisher per topic, ref-counted
 * batched interest, handler errors contained) and a resubscribe after a master is killed and
 * started again. The broker only carries events; any object with a `type` stands in for one.
 */
const event = (n: number, tag: string): DomainEvent => ({ type: 'chat.deleted', chatId: n, actorId: tag }) as unknown as DomainEvent;
const numbers = (events: DomainEvent[], tag: string): number[] =>
  events.flatMap((e) => {
    const x = e as unknown as { type: string; chatId: number; actorId: string };
    return x.type === 'chat.deleted' && x.actorId === tag ? [x.chatId] : [];
  });

describe.runIf(redisClusterEnabled)('RedisClusterBroker (sharded pub/sub on a real 3-master cluster)', () => {
  let cluster: TestRedisCluster;
  const clients: Cluster[] = [];
  const brokers: RedisClusterBroker[] = [];
  let prefix = '';

  beforeAll(async () => {
    cluster = await startRedisCluster();
  });
  afterEach(async () => {
    for (const b of brokers.splice(0)) await b.close();
    for (const c of clients.splice(0)) c.disconnect();
  });
  afterAll(async () => cluster?.stop());

  /** One more instance on the cluster's bus (the current test's prefix). */
  const open = async (log: Logger = silentLogger): Promise<RedisClusterBroker> => {
    const fast = { clusterRetryStrategy: () => 100 };
    const pub = await connectRedisCluster(cluster.seeds, 'test-pub', silentLogger, { ...fast, redisOptions: { autoResendUnfulfilledCommands: false } });
    const sub = await connectRedisCluster(cluster.seeds, 'test-sub', silentLogger, { ...fast, shardedSubscribers: true });
    clients.push(pub, sub);
    const broker = new RedisClusterBroker(pub, sub, { prefix, instanceId: `i${brokers.length}`, log });
    await broker.start();
    brokers.push(broker);
    return broker;
  };

  /** Subscriptions the cluster holds for a topic's shard channel, over every running master. */
  const remoteSubscribers = async (broker: RedisClusterBroker, topic: Topic): Promise<number> => {
    let n = 0;
    for (const node of cluster.nodes) {
      if (!node.process) continue;
      const probe = new Redis(node.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      probe.on('error', () => {});
      try {
        const reply = (await probe.call('PUBSUB', 'SHARDNUMSUB', broker.channelOf(topic))) as [string, number];
        n += Number(reply[1]);
      } finally {
        probe.disconnect();
      }
    }
    return n;
  };

  /** The port of the master that owns a topic's channel (from CLUSTER SLOTS). */
  const ownerPort = async (broker: RedisClusterBroker, topic: Topic): Promise<number> => {
    const slot = clusterSlot(broker.channelOf(topic));
    const probe = new Redis(cluster.nodes[0]!.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    probe.on('error', () => {});
    try {
      const ranges = (await probe.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (!range) throw new Error(`no owner for slot ${slot}`);
      return Number(range[2][1]);
    } finally {
      probe.disconnect();
    }
  };

  beforeEach(() => {
    prefix = randomPrefix();
  });

  it('computes the same slot as the cluster (CLUSTER KEYSLOT), hash tags included', async () => {
    const probe = new Redis(cluster.nodes[0]!.port, '127.0.0.1');
    try {
      for (const key of ['chat:t:chat:1', 'x:t:user:u-42', '{user1000}.following', 'foo{}{bar}', 'foo{{bar}}zap', 'é{ü}', '']) {
        expect(clusterSlot(key)).toBe(Number(await probe.call('CLUSTER', 'KEYSLOT', key)));
      }
    } finally {
      probe.disconnect();
    }
  });

  it('keeps topics apart and passes the topic to the handler', async () => {
    const a = await open();
    const b = await open();
    const got: [Topic, number][] = [];
    await b.subscribe('chat:1', (e, topic) => got.push([topic, numbers([e], 'x')[0]!]));
    a.publish('chat:2', event(2, 'x'));
    a.publish('user:1', event(3, 'x'));
    a.publish('chat:1', event(1, 'x'));
    await waitFor(() => got.length >= 1, 5000, 'the event on chat:1');
    await sleep(100);
    expect(got).toEqual([['chat:1', 1]]);
    expect(b.kind).toBe('redis-cluster');
  });

  it("delivers one publisher's events on one topic in publish order, while other topics interleave", async () => {
    const a = await open();
    const b = await open();
    const c = await open();
    const onB: DomainEvent[] = [];
    const onC: DomainEvent[] = [];
    await b.subscribe('chat:7', (e) => onB.push(e));
    await c.subscribe('chat:7', (e) => onC.push(e));
    await c.subscribe('chat:8', (e) => onC.push(e));
    for (let i = 0; i < 300; i++) {
      a.publish('chat:7', event(i, 'seven'));
      a.publish('chat:8', event(i, 'eight'));
    }
    await waitFor(() => numbers(onB, 'seven').length === 300 && numbers(onC, 'eight').length === 300 && numbers(onC, 'seven').length === 300, 10_000, 'all events');
    const inOrder = [...Array(300).keys()];
    expect(numbers(onB, 'seven')).toEqual(inOrder);
    expect(numbers(onC, 'seven')).toEqual(inOrder);
    expect(numbers(onC, 'eight')).toEqual(inOrder);
    expect(numbers(onB, 'eight')).toEqual([]);
  });

  it('publishes one event to several topics with publishMany, each subscriber once per topic it holds', async () => {
    const a = await open();
    const b = await open();
    const got: Topic[] = [];
    await b.subscribe('user:1', (_e, t) => got.push(t));
    await b.subscribe('user:2', (_e, t) => got.push(t));
    a.publishMany(['user:1', 'user:2', 'user:3'], event(1, 'm'));
    await waitFor(() => got.length >= 2, 5000, 'both topics');
    await sleep(100);
    expect(got.sort()).toEqual(['user:1', 'user:2']);
  });

  it('ref-counts local interest: one remote subscription per topic, dropped with the last handler', async () => {
    const a = await open();
    const b = await open();
    const first: number[] = [];
    const second: number[] = [];
    const offFirst = await b.subscribe('chat:5', (e) => first.push(...numbers([e], 'r')));
    const offSecond = await b.subscribe('chat:5', (e) => second.push(...numbers([e], 'r')));
    expect(await remoteSubscribers(b, 'chat:5')).toBe(1);
    a.publish('chat:5', event(1, 'r'));
    await waitFor(() => first.length === 1 && second.length === 1, 5000, 'both handlers');

    offFirst();
    offFirst(); // idempotent: must not remove the other handler's interest
    await sleep(50);
    expect(await remoteSubscribers(b, 'chat:5')).toBe(1);
    a.publish('chat:5', event(2, 'r'));
    await waitFor(() => second.length === 2, 5000, 'the remaining handler');
    expect(first).toEqual([1]);

    offSecond();
    await waitFor(async () => (await remoteSubscribers(b, 'chat:5')) === 0, 5000, 'the shard channel unsubscribed');
    a.publish('chat:5', event(3, 'r'));
    await sleep(100);
    expect(second).toEqual([1, 2]);
  });

  it('batches one tick of interest changes: an unsubscribe and subscribe within it cancel out', async () => {
    const b = await open();
    const a = await open();
    const got: number[] = [];
    const off = await b.subscribe('chat:9', () => {});
    off();
    const again = b.subscribe('chat:9', (e) => got.push(...numbers([e], 'z')));
    await again;
    expect(await remoteSubscribers(b, 'chat:9')).toBe(1);
    a.publish('chat:9', event(1, 'z'));
    await waitFor(() => got.length === 1, 5000, 'event after the cancelled unsubscribe');
  });

  it('subscribes many topics at once, spread over every master (one SSUBSCRIBE per slot)', async () => {
    const a = await open();
    const b = await open();
    const topics = [...Array(60).keys()].map((i) => `chat:${i}`);
    const owners = new Set(await Promise.all(topics.map((t) => ownerPort(b, t))));
    expect(owners.size).toBe(3);
    const got = new Set<Topic>();
    await Promise.all(topics.map((t) => b.subscribe(t, (_e, topic) => got.add(topic))));
    for (const t of topics) a.publish(t, event(1, 'many'));
    await waitFor(() => got.size === topics.length, 5000, 'every topic');
  });

  it('logs a throwing handler and still runs the others and the following events', async () => {
    const log = recordingLogger();
    const a = await open();
    const b = await open(log);
    const got: number[] = [];
    await b.subscribe('chat:3', () => {
      throw new Error('handler bug');
    });
    await b.subscribe('chat:3', (e) => got.push(...numbers([e], 'h')));
    a.publish('chat:3', event(1, 'h'));
    a.publish('chat:3', event(2, 'h'));
    await waitFor(() => got.length === 2, 5000, 'both events to the healthy handler');
    expect(log.lines.filter((l) => l.includes('bus handler threw') && l.includes('handler bug'))).toHaveLength(2);
  });

  // Last: it kills a master, and the cluster is shared by the file.
  it('resubscribes every wanted topic after a master is killed and started again, then calls onResubscribed', async () => {
    const a = await open();
    const b = await open();
    // One topic per master, so the killed one owns exactly one of them.
    const byOwner = new Map<number, Topic>();
    for (let i = 0; byOwner.size < 3; i++) {
      const t = `chat:${i}`;
      const port = await ownerPort(b, t);
      if (!byOwner.has(port)) byOwner.set(port, t);
    }
    const victimIndex = 1;
    const victimPort = cluster.nodes[victimIndex]!.port;
    const lostTopic = byOwner.get(victimPort)!;
    const keptTopics = [...byOwner.values()].filter((t) => t !== lostTopic);
    const got = new Map<Topic, number[]>();
    for (const t of byOwner.values()) {
      got.set(t, []);
      await b.subscribe(t, (e, topic) => got.get(topic)!.push(...numbers([e], 'f')));
    }
    let resubscribed = 0;
    b.onResubscribed(() => resubscribed++);

    await cluster.kill(victimIndex);
    // Publishing on the dead master's topic neither throws nor blocks.
    for (let i = 0; i < 50; i++) a.publish(lostTopic, event(i, 'down'));
    // …and is dropped and counted, not queued for later (at-most-once).
    await waitFor(() => a.dropped >= 50, 10_000, 'events to the dead master dropped');
    // The other masters keep carrying their topics meanwhile (until the cluster declares itself
    // down after the node timeout, which here is 2 s).
    for (const t of keptTopics) a.publish(t, event(100, 'f'));
    await waitFor(() => keptTopics.every((t) => got.get(t)!.includes(100)), 5000, 'topics of the live masters during the outage');

    await sleep(500);
    await cluster.restart(victimIndex);
    await cluster.waitHealthy(20_000);
    await waitFor(() => resubscribed >= 1, 20_000, 'onResubscribed after the master came back');
    await waitFor(async () => (await remoteSubscribers(b, lostTopic)) >= 1, 10_000, 'the lost topic subscribed again on the restarted master');

    await waitFor(
      async () => {
        a.publish(lostTopic, event(200, 'f'));
        for (const t of keptTopics) a.publish(t, event(200, 'f'));
        await sleep(100);
        return [...got.values()].every((list) => list.includes(200));
      },
      15_000,
      'every topic delivering again',
    );
    await waitFor(async () => b.ping().then(() => true, () => false), 5000, 'ping healthy again');
  });
});
