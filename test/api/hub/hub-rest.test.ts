import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe.each(backends)('hub REST on %s', (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(backend, { env: { MAX_MESSAGE_LENGTH: '50' } });
  });
  afterAll(async () => t.close());

  const send = (from: TestUser, to: TestUser, body: unknown) => api(t, from, 'POST', `/api/v1/chat/direct/${to.id}/send`, { body });

  it('sends a direct message, opening the conversation on first use and reusing it after', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const first = await send(a, b, 'Привет!');
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      message: { id: expect.any(String), conversation_id: expect.any(String), sender_id: a.id, body: 'Привет!', created_at: expect.stringMatching(ISO), seq: 1, edited_at: null, deleted_at: null, change_seq: 0 },
    });
    const second = await send(b, a, 'reply');
    expect(second.body.message).toMatchObject({ conversation_id: first.body.message.conversation_id, sender_id: b.id, seq: 2 });
    const list = await api(t, b, 'GET', '/api/v1/chat/conversations');
    expect(list.body.conversations).toHaveLength(1);
  });

  it('refuses bad direct sends with 400/401/404 and creates nothing', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    expect((await send(a, a, 'me')).status).toBe(400);
    const unknown = await api(t, a, 'POST', '/api/v1/chat/direct/424242/send', { body: 'x' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: expect.any(String) });
    for (const body of [{}, { body: 5 }, { body: '  ' }, { body: 'x'.repeat(51) }, '{"body":', [], 'null']) {
      const res = await api(t, a, 'POST', `/api/v1/chat/direct/${b.id}/send`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toEqual({ error: expect.any(String) });
    }
    expect((await api(t, null, 'POST', `/api/v1/chat/direct/${b.id}/send`, { body: 'x' })).status).toBe(401);
    expect((await api(t, a, 'GET', '/api/v1/chat/conversations')).body.conversations).toEqual([]);
  });

  it('lists conversations by activity with last_message and unread_count, paged', async () => {
    const me = await registerUser(t);
    const [x, y, z] = [await registerUser(t), await registerUser(t), await registerUser(t)];
    const cx = (await send(x, me, 'from x')).body.message.conversation_id;
    const cy = (await send(y, me, 'from y')).body.message.conversation_id;
    const cz = (await send(z, me, 'from z')).body.message.conversation_id;
    const group = await t.server.core.createGroup(x.id, { name: 'Team', memberIds: [me.id] });
    await send(x, me, 'x again'); // x's private chat becomes the most recent

    const list = await api(t, me, 'GET', '/api/v1/chat/conversations');
    expect(list.status).toBe(200);
    expect(list.body.conversations.map((c: any) => c.id)).toEqual([cx, String(group.id), cz, cy]);
    const [top] = list.body.conversations;
    expect(top).toEqual({
      id: cx,
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
      type: 'private',
      name: x.username,
      peer_id: x.id,
      last_message: { id: expect.any(String), conversation_id: cx, sender_id: x.id, body: 'x again', created_at: expect.stringMatching(ISO), seq: 2, edited_at: null, deleted_at: null, change_seq: 0 },
      unread_count: 2,
    });
    expect(list.body.conversations[1]).toMatchObject({ type: 'group', name: 'Team', peer_id: null, last_message: null, unread_count: 0 });

    const page = await api(t, me, 'GET', '/api/v1/chat/conversations?limit=2&offset=1');
    expect(page.body.conversations.map((c: any) => c.id)).toEqual([String(group.id), cz]);
    for (const q of ['limit=abc', 'limit=-1', 'offset=1.5', 'offset=x']) {
      const bad = await api(t, me, 'GET', `/api/v1/chat/conversations?${q}`);
      expect(bad.status, q).toBe(400);
      expect(bad.body).toEqual({ error: expect.any(String) });
    }
    expect((await api(t, null, 'GET', '/api/v1/chat/conversations')).status).toBe(401);
  });

  it('pages history back from the newest, each page chronological, limit capped at 200', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const chatId = (await send(a, b, 'm1')).body.message.conversation_id;
    for (let i = 2; i <= 205; i++) await t.server.core.sendMessage(i % 2 ? a.id : b.id, { chatId: Number(chatId), text: `m${i}` });
    const page = async (q: string) => {
      const res = await api(t, b, 'GET', `/api/v1/chat/conversations/${chatId}/messages${q}`);
      expect(res.status).toBe(200);
      return res.body.messages.map((m: any) => m.body);
    };
    expect(await page('?offset=0&limit=2')).toEqual(['m204', 'm205']);
    expect(await page('?offset=2&limit=3')).toEqual(['m201', 'm202', 'm203']);
    expect(await page('?offset=204&limit=5')).toEqual(['m1']);
    expect(await page('?offset=500')).toEqual([]);
    expect(await page('?limit=0')).toEqual([]);
    const def = await page('');
    expect(def).toHaveLength(50);
    expect(def[49]).toBe('m205');
    const capped = await page('?limit=1000');
    expect(capped).toHaveLength(200);
    expect(capped[0]).toBe('m6');
    const one = await api(t, b, 'GET', `/api/v1/chat/conversations/${chatId}/messages?limit=1`);
    expect(one.body.messages[0]).toEqual({ id: expect.any(String), conversation_id: chatId, sender_id: a.id, body: 'm205', created_at: expect.stringMatching(ISO), seq: 205, edited_at: null, deleted_at: null, change_seq: 0 });
    for (const q of ['limit=abc', 'limit=-5', 'limit=2.5', 'offset=-1', 'offset=one']) {
      const bad = await api(t, b, 'GET', `/api/v1/chat/conversations/${chatId}/messages?${q}`);
      expect(bad.status, q).toBe(400);
      expect(bad.body).toEqual({ error: expect.any(String) });
    }
  });

  it('guards history: 400 bad id, 403 not a member, 404 unknown, 401 no token', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const outsider = await registerUser(t);
    const chatId = (await send(a, b, 'secret')).body.message.conversation_id;
    const path = `/api/v1/chat/conversations/${chatId}/messages`;
    expect((await api(t, outsider, 'GET', path)).status).toBe(403);
    expect((await api(t, outsider, 'GET', '/api/v1/chat/conversations/c1/messages')).status).toBe(400);
    expect((await api(t, outsider, 'GET', '/api/v1/chat/conversations/0/messages')).status).toBe(400);
    const unknown = await api(t, a, 'GET', '/api/v1/chat/conversations/987654/messages');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: expect.any(String) });
    expect((await api(t, null, 'GET', path)).status).toBe(401);
  });

  it('marks a conversation read with 204, with or without an empty JSON body', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const outsider = await registerUser(t);
    const chatId = (await send(a, b, 'one')).body.message.conversation_id;
    await send(a, b, 'two');
    const unread = async () => (await api(t, b, 'GET', '/api/v1/chat/conversations')).body.conversations[0].unread_count;
    expect(await unread()).toBe(2);
    const res = await fetch(`${t.url}/api/v1/chat/conversations/${chatId}/read`, {
      method: 'POST',
      headers: { authorization: `Bearer ${b.token}`, 'content-type': 'application/json' },
    });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(await unread()).toBe(0);
    await send(a, b, 'three');
    expect(await unread()).toBe(1);
    expect((await api(t, b, 'POST', `/api/v1/chat/conversations/${chatId}/read`)).status).toBe(204);
    expect(await unread()).toBe(0);
    expect((await api(t, b, 'POST', `/api/v1/chat/conversations/${chatId}/read`, '{oops')).status).toBe(400);
    expect((await api(t, outsider, 'POST', `/api/v1/chat/conversations/${chatId}/read`)).status).toBe(403);
    expect((await api(t, b, 'POST', '/api/v1/chat/conversations/999999/read')).status).toBe(404);
    expect((await api(t, null, 'POST', `/api/v1/chat/conversations/${chatId}/read`)).status).toBe(401);
  });

  it('reports presence: offline never seen is last_seen null; unknown user 404; no token 401', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    expect((await api(t, a, 'GET', `/api/v1/chat/presence/${b.id}`)).body).toEqual({ user_id: b.id, online: false, last_seen: null });
    const unknown = await api(t, a, 'GET', '/api/v1/chat/presence/no-such-user');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: expect.any(String) });
    expect((await api(t, null, 'GET', `/api/v1/chat/presence/${b.id}`)).status).toBe(401);
  });

  it('answers a plain GET on the socket path with 426 (401 without a token)', async () => {
    const a = await registerUser(t);
    const plain = await api(t, a, 'GET', '/api/v1/ws');
    expect(plain.status).toBe(426);
    expect(plain.body).toEqual({ error: expect.any(String) });
    expect((await api(t, null, 'GET', '/api/v1/ws')).status).toBe(401);
  });

  it('documents every hub route in the OpenAPI document', async () => {
    const doc = (await api(t, null, 'GET', '/openapi.json')).body;
    for (const path of [
      '/api/v1/ws',
      '/api/v1/chat/conversations',
      '/api/v1/chat/conversations/{id}/messages',
      '/api/v1/chat/conversations/{id}/read',
      '/api/v1/chat/direct/{user_id}/send',
      '/api/v1/chat/presence/{user_id}',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });
});
