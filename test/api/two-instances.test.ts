import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../src/domain/events.js';
import type { Session } from '../../src/realtime/session.js';
import { postgresEnabled, createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { deleteKeys, randomPrefix, redisEnabled, TEST_REDIS_URL } from '../support/redis.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../support/test-server.js';
import { waitFor } from '../support/wait.js';

/** A session as any dialect would register it, recording what the registry hands it. */
function fakeSession(t: TestServer, userId: string): Session & { events: DomainEvent[] } {
  const events: DomainEvent[] = [];
  return {
    id: t.server.registry.newSessionId(),
    userId,
    dialect: 'hub',
    events,
    handle(event) {
      events.push(event);
      return event.type === 'message.created';
    },
    lostAccess() {},
    close() {},
  };
}

const enabled = (await postgresEnabled()) && (await redisEnabled());
if (!enabled) process.stderr.write('[tests] two-instance test needs PostgreSQL and Redis; skipped.\n');

/** Two server processes' worth of app on one PostgreSQL database and one Redis prefix. */
describe.runIf(enabled)('two instances sharing PostgreSQL and Redis act as one server', () => {
  let db: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let chatId: number;
  const prefix = randomPrefix();

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, RATE_LIMIT_MESSAGES: '3', RATE_LIMIT_WINDOW_S: '60' };
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
    await deleteKeys(prefix);
  });

  it('reports Redis in /readyz', async () => {
    const res = await api(a, null, 'GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.body.checks).toMatchObject({ database: 'ok', redis: 'ok' });
  });

  it('delivers a message sent on A to a connection on B, and presence is global', async () => {
    const onA = fakeSession(a, alice.id);
    await a.server.registry.add(onA);
    const onB = fakeSession(b, bob.id);
    await b.server.registry.add(onB);
    // Bob's first connection (on B) is announced to Alice's connection on A.
    await waitFor(() => onA.events.some((e) => e.type === 'presence' && e.userId === bob.id && e.online), 5000, 'bob online on A');
    expect(await a.server.core.presenceOf(bob.id)).toMatchObject({ online: true });

    await a.server.core.sendMessage(alice.id, { chatId, text: 'across instances' });
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

  it("announces an instance's users offline when it shuts down (leases released through onExpired)", async () => {
    const env = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix };
    const c = await startServer('postgres', { database: db, env });
    try {
      const onA = fakeSession(a, alice.id);
      await a.server.registry.add(onA);
      // A session that ignores close(): only the presence store's shutdown can take Bob offline.
      await c.server.registry.add(fakeSession(c, bob.id));
      await waitFor(() => onA.events.some((e) => e.type === 'presence' && e.userId === bob.id && e.online), 5000, 'bob online');
      await c.stop();
      await waitFor(() => onA.events.some((e) => e.type === 'presence' && e.userId === bob.id && !e.online), 5000, 'bob offline after shutdown');
      expect(await a.server.core.presenceOf(bob.id)).toMatchObject({ online: false });
      await a.server.registry.remove(onA);
    } finally {
      await c.close();
    }
  });
});
