import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';

/** `GET /api/messages/search` through fetch, as the stomp seed's REST clients call it. */
describe.each(backends)('stomp search on %s', (backend) => {
  let t: TestServer;
  let me: TestUser;
  let peer: TestUser;
  let removed: TestUser;
  let chat: number;
  beforeAll(async () => {
    t = await startServer(backend, { coreOverrides: { maxPageSize: 3 } });
    [me, peer, removed] = [await registerUser(t), await registerUser(t), await registerUser(t)];
    chat = (await t.server.core.createGroup(me.id, { name: 'g', memberIds: [peer.id, removed.id] })).id;
    for (const text of ['Встреча в пятницу', 'meeting on Friday', 'встреча отменена', 'lunch']) await t.server.core.sendMessage(me.id, { chatId: chat, text });
    await t.server.core.removeMembers(me.id, chat, [removed.id]);
  });
  afterAll(async () => t.close());

  const search = (user: TestUser | null, query: string) => api(t, user, 'GET', `/api/messages/search?${query}`);

  it('answers a bare array of the stomp message shape, newest first among equal matches', async () => {
    const res = await search(peer, `q=${encodeURIComponent('встреча')}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { id: expect.any(String), conversationId: String(chat), senderId: me.id, content: 'встреча отменена', createdAt: expect.any(String), type: 'TEXT', replyToMessageId: null, seq: 3, editedAt: null, deletedAt: null, changeSeq: 0 },
      expect.objectContaining({ content: 'Встреча в пятницу', seq: 1 }),
    ]);
    expect((await search(peer, 'q=friday')).body.map((m: any) => m.content)).toEqual(['meeting on Friday']);
  });

  it('shows a removed member nothing of the chat it left', async () => {
    expect((await search(removed, `q=${encodeURIComponent('встреча')}`)).body).toEqual([]);
  });

  it('pages with limit/offset, capped at the largest history page', async () => {
    expect((await search(me, `q=${encodeURIComponent('встреча or friday or lunch')}&limit=100`)).body).toHaveLength(3);
    const page2 = await search(me, `q=${encodeURIComponent('встреча or friday or lunch')}&limit=3&offset=3`);
    expect(page2.body).toHaveLength(1);
  });

  it('refuses an empty or over-long q with 400 in the stomp error shape; no token is 401', async () => {
    for (const query of ['q=', '', `q=${'b'.repeat(201)}`, 'q=x&limit=1.5']) {
      const res = await search(me, query);
      expect(res.status, query).toBe(400);
      expect(typeof res.body.error, query).toBe('string');
    }
    expect((await search(null, 'q=x')).status).toBe(401);
  });
});
