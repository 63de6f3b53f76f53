import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../src/domain/events.js';
import type { Session } from '../../src/realtime/session.js';
import { postgresEnabled, createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { deleteKeys, randomPrefix, redisEnabled, TEST_REDIS_URL } from '../support/redis.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../support/test-server.js';
import { sleep, waitFor } from '../support/wait.js';

/** A session as any dialect would register it, recording what the registry hands it. */
function fakeSession(t: TestServer, userId: string): Session & { events: DomainEvent[]; lost: [number, string][] } {
  const events: DomainEvent[] = [];
  const lost: [number, string][] = [];
  return {
    id: t.server.registry.newSessionId(),
    userId,
    dialect: 'hub',
    events,
    lost,
    handle(event) {
      events.push(event);
      return event.type === 'message.created';
    },
    lostAccess(chatId, reason) {
      lost.push([chatId, reason]);
    },
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

  it('keeps the membership cache right on an instance where no session is in the chat (REST sends)', async () => {
    const [owner, member, late] = await Promise.all([registerUser(a), registerUser(a), registerUser(a)]);
    const group = await a.server.core.createGroup(owner.id, { name: 'cache', memberIds: [member.id] });
    // B has no session of anyone here: its cache takes its own interest in the chat's topic.
    await b.server.core.sendMessage(member.id, { chatId: group.id, text: 'cached on B' });
    await a.server.core.removeMembers(owner.id, group.id, [member.id]);
    // Long before the cache's 30 s expiry: the removal reached B's cache over the chat's topic.
    await waitFor(
      () => b.server.core.sendMessage(member.id, { chatId: group.id, text: 'after removal' }).then(() => false, (err: { code?: string }) => err.code === 'forbidden'),
      3000,
      'B to refuse the removed member',
    );
    await expect(b.server.core.sendMessage(late.id, { chatId: group.id, text: 'not yet' })).rejects.toMatchObject({ code: 'forbidden' });
    await a.server.core.addMembers(owner.id, group.id, [late.id]);
    await waitFor(
      () => b.server.core.sendMessage(late.id, { chatId: group.id, text: 'now a member' }).then(() => true, () => false),
      3000,
      'B to accept the added member',
    );
  });

  it("routes by interest: a newly added member's instance subscribes the chat, a removed one stops hearing it", async () => {
    const [owner, newcomer] = await Promise.all([registerUser(a), registerUser(a)]);
    const group = await a.server.core.createGroup(owner.id, { name: 'interest', memberIds: [] });
    const onB = fakeSession(b, newcomer.id);
    await b.server.registry.add(onB);
    expect(b.server.registry.hasChat(newcomer.id, group.id)).toBe(false);
    await a.server.core.sendMessage(owner.id, { chatId: group.id, text: 'before joining' });
    await a.server.core.addMembers(owner.id, group.id, [newcomer.id]);
    await waitFor(() => onB.events.some((e) => e.type === 'members.added' && e.chatId === group.id), 5000, 'members.added on B');
    await waitFor(() => b.server.registry.hasChat(newcomer.id, group.id), 5000, 'B to index the chat');
    await sleep(100); // the chat topic's SUBSCRIBE goes out on the next tick
    await a.server.core.sendMessage(owner.id, { chatId: group.id, text: 'after joining' });
    await waitFor(() => onB.events.some((e) => e.type === 'message.created' && e.message.text === 'after joining'), 5000, 'message on B');
    expect(onB.events.some((e) => e.type === 'message.created' && e.message.text === 'before joining')).toBe(false);

    await a.server.core.removeMembers(owner.id, group.id, [newcomer.id]);
    await waitFor(() => onB.lost.length === 1, 5000, 'lostAccess on B');
    expect(onB.lost).toEqual([[group.id, 'removed']]);
    expect(onB.events.filter((e) => e.type === 'members.removed')).toHaveLength(1);
    await a.server.core.sendMessage(owner.id, { chatId: group.id, text: 'after leaving' });
    await a.server.core.setTyping(owner.id, group.id, true);
    await sleep(300);
    expect(onB.events.some((e) => (e.type === 'message.created' && e.message.text === 'after leaving') || e.type === 'typing')).toBe(false);
    expect(b.server.registry.hasChat(newcomer.id, group.id)).toBe(false);
    await b.server.registry.remove(onB);
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
