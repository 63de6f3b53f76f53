import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** `GET /api/v1/chat/search` through fetch, as a hub front-end calls it. */
describe.each(backends)('hub search on %s', (backend) => {
  let t: TestServer;
  let me: TestUser;
  let peer: TestUser;
  let outsider: TestUser;
  let group: number;
  beforeAll(async () => {
    // A page of at most 3, so the cap from the core's settings is visible with a few messages.
    t = await startServer(backend, { coreOverrides: { maxPageSize: 3 } });
    [me, peer, outsider] = [await registerUser(t), await registerUser(t), await registerUser(t)];
    group = (await t.server.core.createGroup(me.id, { name: 'Команда', memberIds: [peer.id] })).id;
    for (const text of ['Купили билеты на поезд', 'train tickets bought', 'Поезд опаздывает, train is late', 'unrelated', 'ещё поезд', 'и ещё поезд']) {
      await t.server.core.sendMessage(peer.id, { chatId: group, text });
    }
    const foreign = (await t.server.core.createGroup(outsider.id, { name: 'secret', memberIds: [] })).id;
    await t.server.core.sendMessage(outsider.id, { chatId: foreign, text: 'поезд train foreign' });
  });
  afterAll(async () => t.close());

  const search = (user: TestUser | null, query: string) => api(t, user, 'GET', `/api/v1/chat/search?${query}`);

  it('answers {messages} in the hub message shape, best match first, only from the caller’s chats, in Russian and English', async () => {
    const res = await search(me, `q=${encodeURIComponent('ПОЕЗД train')}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      messages: [{ id: expect.any(String), conversation_id: String(group), sender_id: peer.id, body: 'Поезд опаздывает, train is late', created_at: expect.stringMatching(ISO), seq: 3, edited_at: null, deleted_at: null, change_seq: 0 }],
    });
    const english = await search(me, 'q=tickets');
    expect(english.body.messages.map((m: any) => m.body)).toEqual(['train tickets bought']);
    const theirs = await search(outsider, `q=${encodeURIComponent('поезд')}`);
    expect(theirs.body.messages.map((m: any) => m.body)).toEqual(['поезд train foreign']);
  });

  it('pages with limit/offset, capped at the largest history page', async () => {
    const q = `q=${encodeURIComponent('поезд')}`;
    const capped = await search(me, `${q}&limit=500`);
    expect(capped.body.messages).toHaveLength(3);
    const first = await search(me, `${q}&limit=2`);
    const second = await search(me, `${q}&limit=2&offset=2`);
    const ids = [...first.body.messages, ...second.body.messages].map((m: any) => m.id);
    expect(new Set(ids).size).toBe(4);
    expect((await search(me, `${q}&offset=4`)).body.messages).toEqual([]);
    expect((await search(me, `${q}&limit=0`)).body.messages).toEqual([]);
  });

  it('refuses an empty, blank, missing or over-long q and bad paging with 400; no token is 401', async () => {
    for (const query of ['q=', 'q=%20%20', '', `q=${'a'.repeat(201)}`, `q=${encodeURIComponent('я'.repeat(201))}`, 'q=%00', 'q=x&limit=-1', 'q=x&offset=abc']) {
      const res = await search(me, query);
      expect(res.status, query).toBe(400);
      expect(res.body).toEqual({ error: expect.any(String) });
    }
    expect((await search(me, `q=${'a'.repeat(200)}`)).status).toBe(200);
    expect((await search(me, `q=${encodeURIComponent('😀'.repeat(200))}`)).body).toEqual({ messages: [] });
    const anonymous = await search(null, 'q=');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({ error: expect.any(String) });
  });

  it('finds nothing (not everything) for text without a searchable word', async () => {
    for (const q of ['!!!', '-поезд', '"', 'or']) expect((await search(me, `q=${encodeURIComponent(q)}`)).body, q).toEqual({ messages: [] });
  });
});
