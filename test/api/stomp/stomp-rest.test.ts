import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');

describe.each(backends)('stomp REST on %s', (backend) => {
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  beforeAll(async () => {
    t = await startServer(backend);
    alice = await registerUser(t);
    bob = await registerUser(t);
    carol = await registerUser(t);
  });
  afterAll(async () => t.close());

  it('creates a private chat (get-or-create) named after the other user, and lists it', async () => {
    const created = await api(t, alice, 'POST', '/api/chats', { type: 'private', participantIds: [bob.id] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^\d+$/), type: 'private', name: bob.username, lastMessage: null, unreadCount: 0 });
    expect(created.body.participants).toEqual(expect.arrayContaining([expect.objectContaining({ userId: alice.id, role: 'member' }), expect.objectContaining({ userId: bob.id, role: 'member' })]));
    expect(Date.parse(created.body.createdAt)).not.toBeNaN();
    const again = await api(t, bob, 'POST', `/api/chats/personal/${alice.id}`);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(created.body.id);
    expect(again.body.name).toBe(alice.username);
    const id = await api(t, alice, 'GET', `/api/chats/personal/${bob.id}/id`);
    expect(id).toMatchObject({ status: 200, body: { chatId: Number(created.body.id) } });
    expect((await api(t, alice, 'GET', `/api/chats/personal/${carol.id}/id`)).status).toBe(404);
    const list = await api(t, alice, 'GET', '/api/chats');
    expect(list.status).toBe(200);
    expect(Array.isArray(list.body)).toBe(true);
    expect(list.body.find((c: any) => c.id === created.body.id)).toMatchObject({ type: 'private', name: bob.username });
    const one = await api(t, alice, 'GET', `/api/chats/${created.body.id}`);
    expect(one.body).toEqual(list.body.find((c: any) => c.id === created.body.id));
  });

  it('creates a group, sends, pages history, manages participants, reads, refuses outsiders', async () => {
    const g = await api(t, alice, 'POST', '/api/chats', { type: 'group', name: 'Work Chat', description: 'Team communication', participantIds: [bob.id] });
    expect(g.status).toBe(201);
    expect(g.body).toMatchObject({ type: 'group', name: 'Work Chat', description: 'Team communication' });
    expect(g.body.participants).toEqual(expect.arrayContaining([expect.objectContaining({ userId: alice.id, role: 'owner' }), expect.objectContaining({ userId: bob.id, role: 'member' })]));
    const chatId = g.body.id;
    const sent = [];
    for (const content of ['one', 'two', 'three']) {
      const r = await api(t, bob, 'POST', `/api/chats/${chatId}/messages`, { content });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ id: expect.stringMatching(/^\d+$/), conversationId: chatId, senderId: bob.id, content });
      sent.push(r.body);
    }
    const page = await api(t, alice, 'GET', `/api/chats/${chatId}/messages?limit=2&offset=0`);
    expect(page.body.map((m: any) => m.content)).toEqual(['two', 'three']);
    const older = await api(t, alice, 'GET', `/api/chats/${chatId}/messages?limit=2&offset=2`);
    expect(older.body.map((m: any) => m.content)).toEqual(['one']);
    const listed = (await api(t, alice, 'GET', `/api/chats/${chatId}`)).body;
    expect(listed.lastMessage).toEqual({ id: sent[2].id, content: 'three', senderId: bob.id });
    expect(listed.unreadCount).toBe(3);
    expect((await api(t, alice, 'POST', `/api/chats/${chatId}/messages/read`)).status).toBe(204);
    expect((await api(t, alice, 'GET', `/api/chats/${chatId}`)).body.unreadCount).toBe(0);

    expect((await api(t, carol, 'GET', `/api/chats/${chatId}/messages`)).status).toBe(403);
    expect((await api(t, carol, 'POST', `/api/chats/${chatId}/messages`, { content: 'x' })).status).toBe(403);
    const added = await api(t, alice, 'PUT', `/api/chats/${chatId}/participants`, { action: 'add', userId: carol.id });
    expect(added.status).toBe(200);
    expect(added.body.participants.map((p: any) => p.userId)).toContain(carol.id);
    expect((await api(t, carol, 'GET', `/api/chats/${chatId}/messages`)).status).toBe(200);
    const removed = await api(t, alice, 'PUT', `/api/chats/${chatId}/participants`, { action: 'remove', userId: carol.id });
    expect(removed.status).toBe(200);
    expect(removed.body.participants.map((p: any) => p.userId)).not.toContain(carol.id);
    expect((await api(t, carol, 'GET', `/api/chats/${chatId}`)).status).toBe(403);
    expect((await api(t, bob, 'PUT', `/api/chats/${chatId}/participants`, { action: 'add', userId: carol.id })).status).toBe(403);
  });

  it('uploads an avatar from the first file part whatever its name, and serves it', async () => {
    const g = await api(t, alice, 'POST', '/api/chats', { type: 'group', name: 'Pics', participantIds: [] });
    const form = new FormData();
    form.append('note', 'hello');
    form.append('whatever', new Blob([PNG], { type: 'image/png' }), 'chat-avatar.png');
    const res = await fetch(`${t.url}/api/chats/${g.body.id}/avatar`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}` }, body: form });
    expect(res.status).toBe(200);
    const { avatarUrl } = (await res.json()) as { avatarUrl: string };
    expect(avatarUrl).toMatch(/^\/uploads\//);
    const img = await fetch(`${t.url}${avatarUrl}`);
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/png');
    expect((await api(t, alice, 'GET', `/api/chats/${g.body.id}`)).body.avatarUrl).toBe(avatarUrl);

    const text = new FormData();
    text.append('file', new Blob(['not an image']), 'a.png');
    const bad = await fetch(`${t.url}/api/chats/${g.body.id}/avatar`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}` }, body: text });
    expect(bad.status).toBe(415);
    expect(await bad.json()).toEqual({ error: expect.any(String) });
    expect((await api(t, alice, 'POST', `/api/chats/${g.body.id}/avatar`, { x: 1 })).status).toBe(400);
  });

  it('serves missed messages after `since` and online members', async () => {
    const chat = (await api(t, alice, 'POST', `/api/chats/personal/${carol.id}`)).body;
    await api(t, alice, 'POST', `/api/chats/${chat.id}/messages`, { content: 'before' });
    await new Promise((r) => setTimeout(r, 10));
    const since = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 10));
    await api(t, alice, 'POST', `/api/chats/${chat.id}/messages`, { content: 'after 1' });
    await api(t, alice, 'POST', `/api/chats/${chat.id}/messages`, { content: 'after 2' });
    const missed = await api(t, carol, 'GET', `/api/chats/${chat.id}/missed-messages?since=${encodeURIComponent(since)}`);
    expect(missed.status).toBe(200);
    expect(missed.body.map((m: any) => m.content)).toEqual(['after 1', 'after 2']);
    expect(missed.body[0]).toMatchObject({ conversationId: chat.id, senderId: alice.id });
    for (const bad of ['', 'yesterday', '2024-13-45T99:00:00Z']) {
      const r = await api(t, carol, 'GET', `/api/chats/${chat.id}/missed-messages?since=${encodeURIComponent(bad)}`);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error: expect.any(String) });
    }
    expect((await api(t, carol, 'GET', `/api/chats/${chat.id}/missed-messages`)).status).toBe(400);
    const online = await api(t, carol, 'GET', `/api/chats/${chat.id}/online`);
    expect(online).toMatchObject({ status: 200, body: { chatId: Number(chat.id), onlineUserIds: [] } });
  });

  it('documents every route in the OpenAPI document', async () => {
    const doc = (await api(t, null, 'GET', '/openapi.json')).body;
    for (const path of ['/api/chats', '/api/chats/{chatId}', '/api/chats/{chatId}/messages', '/api/chats/{chatId}/participants', '/api/chats/{chatId}/avatar', '/api/chats/personal/{userId}', '/api/chats/personal/{userId}/id', '/api/chats/{chatId}/online', '/api/chats/{chatId}/missed-messages', '/api/chats/{chatId}/messages/read']) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });

  it('answers bad input with 400/401/404 and never 500', async () => {
    expect((await api(t, null, 'GET', '/api/chats')).status).toBe(401);
    expect((await api(t, alice, 'GET', '/api/chats/abc')).status).toBe(400);
    expect((await api(t, alice, 'GET', '/api/chats/999999')).status).toBe(404);
    expect((await api(t, alice, 'POST', '/api/chats', { type: 'private', participantIds: [] })).status).toBe(400);
    expect((await api(t, alice, 'POST', '/api/chats', { type: 'private', participantIds: ['nobody-999'] })).status).toBe(404);
    expect((await api(t, alice, 'POST', '/api/chats', { type: 'private', participantIds: [alice.id] })).status).toBe(400);
    expect((await api(t, alice, 'POST', '/api/chats', { type: 'channel' })).status).toBe(400);
    expect((await api(t, alice, 'POST', '/api/chats', { type: 'group', participantIds: [] })).status).toBe(400);
    expect((await api(t, alice, 'POST', '/api/chats', '{"type":')).status).toBe(400);
    const g = (await api(t, alice, 'POST', '/api/chats', { type: 'group', name: 'G', participantIds: [bob.id] })).body;
    expect((await api(t, alice, 'POST', `/api/chats/${g.id}/messages`, { content: '   ' })).status).toBe(400);
    expect((await api(t, alice, 'POST', `/api/chats/${g.id}/messages`, { content: 'x'.repeat(1001) })).status).toBe(400);
    expect((await api(t, alice, 'POST', `/api/chats/${g.id}/messages`, { content: 5 })).status).toBe(400);
    expect((await api(t, alice, 'GET', `/api/chats/${g.id}/messages?limit=-1`)).status).toBe(400);
    expect((await api(t, alice, 'GET', `/api/chats/${g.id}/messages?offset=x`)).status).toBe(400);
    expect((await api(t, alice, 'PUT', `/api/chats/${g.id}/participants`, { action: 'kick', userId: bob.id })).status).toBe(400);
    expect((await api(t, alice, 'PUT', `/api/chats/${g.id}/participants`, { action: 'add', userId: bob.id })).status).toBe(409);
    expect((await api(t, alice, 'GET', `/api/chats/personal/${alice.id}/id`)).status).toBe(404);
    const history = await api(t, alice, 'GET', `/api/chats/${g.id}/messages`);
    expect(history.body).toEqual([]);
  });
});
