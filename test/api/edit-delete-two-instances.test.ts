import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresEnabled, createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { deleteKeys, randomPrefix, redisEnabled, TEST_REDIS_URL } from '../support/redis.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../support/test-server.js';
import { JsonSocket } from '../support/ws-client.js';

const enabled = (await postgresEnabled()) && (await redisEnabled());
if (!enabled) process.stderr.write('[tests] two-instance edit test needs PostgreSQL and Redis; skipped.\n');

/** Changes made on one instance reach clients of another, and cursors stay one sequence per chat. */
describe.runIf(enabled)('edit and delete across two instances (PostgreSQL + Redis)', () => {
  let db: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let chatId: number;
  const prefix = randomPrefix();
  const sockets: JsonSocket[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix };
    a = await startServer('postgres', { database: db, env });
    b = await startServer('postgres', { database: db, env });
    alice = await registerUser(a);
    bob = await registerUser(b);
    chatId = (await a.server.core.createGroup(alice.id, { name: 'two', memberIds: [bob.id] })).id;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await a?.close();
    await b?.close();
    await db?.drop();
    await deleteKeys(prefix);
  });

  it('an edit and a delete on A reach a hub socket on B; concurrent changes on A and B get distinct cursors', async () => {
    const onB = await JsonSocket.open(`${b.wsUrl}/api/v1/ws`, { token: bob.token });
    sockets.push(onB);
    const sent = await api(a, alice, 'POST', `/api/v1/chat/direct/${bob.id}/send`, { body: 'dm' });
    const dm = sent.body.message.conversation_id as string;
    await onB.next((f) => f.type === 'message' && f.data.body === 'dm');
    expect((await api(a, alice, 'PATCH', `/api/v1/chat/conversations/${dm}/messages/${sent.body.message.id}`, { body: 'dm!' })).status).toBe(200);
    expect(await onB.next((f) => f.type === 'message_updated')).toMatchObject({ data: { id: sent.body.message.id, body: 'dm!' } });
    expect((await api(a, alice, 'DELETE', `/api/v1/chat/conversations/${dm}/messages/${sent.body.message.id}`)).status).toBe(204);
    expect(await onB.next((f) => f.type === 'message_deleted')).toMatchObject({ data: { id: sent.body.message.id } });

    const mine = await Promise.all(Array.from({ length: 6 }, (_, i) => a.server.core.sendMessage(alice.id, { chatId, text: `a${i}` })));
    const theirs = await Promise.all(Array.from({ length: 6 }, (_, i) => b.server.core.sendMessage(bob.id, { chatId, text: `b${i}` })));
    const changes = await Promise.all([
      ...mine.map(({ message }) => a.server.core.editMessage(alice.id, { chatId, messageId: message.id }, `${message.text}!`)),
      ...theirs.map(({ message }) => b.server.core.deleteMessage(bob.id, { chatId, messageId: message.id })),
    ]);
    expect(changes.map((m) => m.changeSeq).sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const page = await b.server.core.changesAfter(bob.id, chatId, 0, 100);
    expect(page.changes).toHaveLength(12);
    expect(page.cursor).toBe(12);
  });
});
