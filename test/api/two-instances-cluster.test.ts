import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../src/domain/events.js';
import type { Session } from '../../src/realtime/session.js';
import { postgresEnabled, createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { redisClusterEnabled, startRedisCluster, type TestRedisCluster } from '../support/redis-cluster.js';
import { randomPrefix } from '../support/redis.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../support/test-server.js';
import { waitFor } from '../support/wait.js';

/** A session as any dialect would register it, recording what the registry hands it. */
function fakeSession(t: TestServer, userId: string): Session & { events: DomainEvent[]; replacedBy: string[] } {
  const events: DomainEvent[] = [];
  return {
    id: t.server.registry.newSessionId(),
    userId,
    dialect: 'channels',
    events,
    replacedBy: [],
    handle(event) {
      events.push(event);
      return event.type === 'message.created';
    },
    close() {},
    lostAccess() {},
  };
}

const enabled = (await postgresEnabled()) && redisClusterEnabled;
if (!enabled) process.stderr.write('[tests] two instances on Redis Cluster need PostgreSQL and redis-server/redis-cli >= 7; skipped.\n');

/** The two-instance checks of `two-instances.test.ts`, with REDIS_CLUSTER_NODES on a real 3-master cluster. */
describe.runIf(enabled)('two instances on PostgreSQL and Redis Cluster act as one server', () => {
  let cluster: TestRedisCluster;
  let db: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let chatId: number;
  const prefix = randomPrefix();

  beforeAll(async () => {
    cluster = await startRedisCluster();
    db = await createTestDatabase();
    const env = { REDIS_CLUSTER_NODES: cluster.nodesEnv, REDIS_PREFIX: prefix, RATE_LIMIT_MESSAGES: '3', RATE_LIMIT_WINDOW_S: '60' };
    a = await startServer('postgres', { database: db, env });
    b = await startServer('postgres', { database: db, env });
    alice = await registerUser(a);
    bob = await registerUser(b);
    chatId = (await a.server.core.openPrivateChat(alice.id, bob.id)).chat.id;
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    await cluster?.stop();
  });

  it('reports Redis in /readyz', async () => {
    const res = await api(a, null, 'GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.body.checks).toMatchObject({ database: 'ok', redis: 'ok' });
  });

  it('refuses to start with both REDIS_URL and REDIS_CLUSTER_NODES', async () => {
    await expect(
      startServer('sqlite', { env: { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: cluster.nodesEnv } }),
    ).rejects.toMatchObject({ name: 'ConfigError', variable: 'REDIS_CLUSTER_NODES' });
  });

  it('stops the start with one clear line when no seed node answers', async () => {
    await expect(startServer('sqlite', { env: { REDIS_CLUSTER_NODES: '127.0.0.1:1' } })).rejects.toThrow(/^Redis Cluster unreachable at 127\.0\.0\.1:1: /);
  });

  it('delivers a message sent on A to a connection on B, and presence is global', async () => {
    const onA = fakeSession(a, alice.id);
    await a.server.registry.add(onA);
    const onB = fakeSession(b, bob.id);
    await b.server.registry.add(onB);
    await waitFor(() => onA.events.some((e) => e.type === 'presence' && e.userId === bob.id && e.online), 5000, 'bob online on A');
    expect(await a.server.core.presenceOf(bob.id)).toMatchObject({ online: true });

    await a.server.core.sendMessage(alice.id, { chatId, text: 'across the cluster' });
    await waitFor(() => onB.events.find((e) => e.type === 'message.created'), 5000, 'message on B');

    await b.server.registry.remove(onB);
    await waitFor(() => onA.events.some((e) => e.type === 'presence' && e.userId === bob.id && !e.online), 5000, 'bob offline on A');
    expect(await a.server.core.presenceOf(bob.id)).toMatchObject({ online: false });
    await a.server.registry.remove(onA);
  });

  it('shares the send rate limit across instances', async () => {
    const carol = await registerUser(a);
    const dm = (await a.server.core.openPrivateChat(carol.id, alice.id)).chat.id;
    await a.server.core.sendMessage(carol.id, { chatId: dm, text: '1' });
    await b.server.core.sendMessage(carol.id, { chatId: dm, text: '2' });
    await a.server.core.sendMessage(carol.id, { chatId: dm, text: '3' });
    await expect(b.server.core.sendMessage(carol.id, { chatId: dm, text: '4' })).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it('replaces the older exclusive session on the other instance when the claim arrives over the cluster', async () => {
    const open = async (t: TestServer, key: string) => {
      const s = fakeSession(t, alice.id);
      t.server.registry.claimExclusive(s, key, (by) => {
        s.replacedBy.push(by);
        void t.server.registry.remove(s);
      });
      await t.server.registry.add(s);
      return s;
    };
    const onA = await open(a, 'chat:1');
    const otherKey = await open(a, 'chat:2');
    const onB = await open(b, 'chat:1');
    await waitFor(() => onA.replacedBy.length > 0, 5000, 'the claim from B to reach A');
    expect(onA.replacedBy).toEqual([onB.id]);
    expect(onB.replacedBy).toEqual([]);
    expect(otherKey.replacedBy).toEqual([]);
    await b.server.registry.remove(onB);
    await a.server.registry.remove(otherKey);
  });

  it("announces an instance's users offline when it shuts down (leases released through onExpired)", async () => {
    const c = await startServer('postgres', { database: db, env: { REDIS_CLUSTER_NODES: cluster.nodesEnv, REDIS_PREFIX: prefix } });
    try {
      const onA = fakeSession(a, alice.id);
      await a.server.registry.add(onA);
      await c.server.registry.add(fakeSession(c, bob.id));
      await waitFor(() => onA.events.some((e) => e.type === 'presence' && e.userId === bob.id && e.online), 5000, 'bob online');
      await c.stop();
      await waitFor(() => onA.events.some((e) => e.type === 'presence' && e.userId === bob.id && !e.online), 5000, 'bob offline after shutdown');
      await a.server.registry.remove(onA);
    } finally {
      await c.close();
    }
  });
});
