import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/bus/redis/connect-redis.js';
import { RedisBroker } from '../../src/bus/redis/redis-broker.js';
import type { DomainEvent } from '../../src/domain/events.js';
import type { Topic } from '../../src/ports/broker.js';
import { silentLogger } from '../../src/ports/logger.js';
import { freePort, haveRedisServer, killProcess as kill, startRedisServer as startRedis } from '../support/redis-server.js';
import { sleep, waitFor } from '../support/wait.js';

/**
 * The machine's Redis is shared, so this test runs its own throwaway `redis-server` on a free
 * port, kills it by pid (SIGKILL, like a crash), and starts it again on the same port.
 */
if (!haveRedisServer) process.stderr.write('[tests] redis-server is not on PATH; the Redis restart test is skipped.\n');
const event = (n: number, tag: string): DomainEvent => ({ type: 'chat.deleted', chatId: n, actorId: tag });
const numbers = (events: DomainEvent[], tag: string): number[] =>
  events.flatMap((e) => (e.type === 'chat.deleted' && e.actorId === tag ? [e.chatId] : []));

describe.skipIf(!haveRedisServer)('RedisBroker across a Redis restart (own redis-server)', () => {
  const children: ChildProcess[] = [];
  const clients: Redis[] = [];
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    for (const child of children) await kill(child);
  });

  it('survives the outage without throwing or queueing, resubscribes every wanted topic, and delivers again', async () => {
    const port = await freePort();
    children.push(await startRedis(port));
    const url = `redis://127.0.0.1:${port}`;
    const fast = { retryStrategy: () => 100, autoResendUnfulfilledCommands: false }; // as in production for publishers
    const open = async (id: string): Promise<RedisBroker> => {
      const pub = await connectRedis(url, `${id}-pub`, silentLogger, fast);
      const sub = await connectRedis(url, `${id}-sub`, silentLogger, fast);
      clients.push(pub, sub);
      const broker = new RedisBroker(pub, sub, { prefix: 'restart:', instanceId: id });
      await broker.start();
      return broker;
    };
    const a = await open('a');
    const b = await open('b');
    const onB: DomainEvent[] = [];
    const topics: Topic[] = Array.from({ length: 50 }, (_, i) => `chat:${i}`);
    for (const t of topics) await b.subscribe(t, (e) => onB.push(e));
    // Wanted before the crash, dropped during the outage: must not come back after it.
    const onGone: DomainEvent[] = [];
    const offGone = await b.subscribe('gone', (e) => onGone.push(e));
    let resubscribedA = 0;
    let resubscribedB = 0;
    a.onResubscribed(() => resubscribedA++);
    b.onResubscribed(() => resubscribedB++);

    // A bare ioredis subscriber, which nobody resubscribes but ioredis itself.
    const raw = await connectRedis(url, 'raw-sub', silentLogger, fast);
    clients.push(raw);
    const onRaw: string[] = [];
    raw.on('message', (_channel: string, text: string) => onRaw.push(text));
    await raw.subscribe('restart:t:chat:0');

    a.publish('chat:0', event(0, 'before'));
    await waitFor(() => numbers(onB, 'before').length === 1, 5000, 'event before the crash');

    await kill(children[0]!);
    await waitFor(async () => a.ping().then(() => false, () => true), 5000, 'ping to fail while Redis is down');
    for (let i = 0; i < 1000; i++) a.publish('chat:0', event(i, 'down')); // must neither throw nor block
    offGone();
    // Subscribed while down: fails fast at the link, stays wanted, is subscribed on reconnect.
    const onLate: DomainEvent[] = [];
    await b.subscribe('late', (e) => onLate.push(e));
    await waitFor(() => a.dropped >= 1000, 5000, 'events dropped while down');
    const pubClient = clients[0] as unknown as { offlineQueue: { length: number } };
    expect(pubClient.offlineQueue.length).toBe(0);
    await sleep(300); // a few failed reconnect attempts

    children.push(await startRedis(port));
    await waitFor(() => resubscribedA >= 1 && resubscribedB >= 1, 15_000, 'both brokers resubscribed');
    await waitFor(async () => a.ping().then(() => true, () => false), 5000, 'ping to succeed again');

    for (let i = 0; i < 20; i++) a.publish('chat:0', event(i, 'after'));
    for (let i = 1; i < topics.length; i++) a.publish(topics[i]!, event(i, 'every'));
    a.publish('gone', event(1, 'gone'));
    a.publish('late', event(1, 'late'));
    await waitFor(() => numbers(onB, 'after').length === 20, 10_000, 'events after the restart');
    expect(numbers(onB, 'after')).toEqual([...Array(20).keys()]);
    await waitFor(() => numbers(onB, 'every').length === topics.length - 1, 10_000, 'every topic resubscribed');
    await waitFor(() => onLate.length === 1, 5000, 'the topic subscribed during the outage');
    expect(onGone).toEqual([]);
    const admin = await connectRedis(url, 'admin', silentLogger, fast);
    clients.push(admin);
    expect(await admin.call('PUBSUB', 'NUMSUB', 'restart:t:gone', 'restart:t:chat:7')).toEqual(['restart:t:gone', 0, 'restart:t:chat:7', 1]);
    await waitFor(() => onRaw.length === 21, 5000, 'the bare subscriber to get the events after the restart');
    // At-most-once: whatever was published during the outage is gone, not replayed later.
    expect(numbers(onB, 'down')).toEqual([]);
    expect(resubscribedB).toBe(1);

    await a.close();
    await b.close();
  });
});
