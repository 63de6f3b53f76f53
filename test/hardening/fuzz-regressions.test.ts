import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { api, registerUser, startServer, tokenFor, type TestServer, type TestUser } from '../support/test-server.js';
import { JsonSocket } from '../support/ws-client.js';
import { waitFor } from '../support/wait.js';
import WebSocket from 'ws';

/** Bugs the fuzzers found, pinned as plain examples. */
describe.each(backends)('fuzz findings on %s', (backend) => {
  let t: TestServer;
  let owner: TestUser;
  let group: number;
  beforeAll(async () => {
    t = await startServer(backend);
    owner = await registerUser(t);
    group = (await t.server.core.createGroup(owner.id, { name: 'g', memberIds: [] })).id;
  });
  afterAll(async () => t.close());

  it('stomp avatar upload: a truncated multipart body is a 400, not a 500', async () => {
    const body = '--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n0000';
    const res = await fetch(`${t.url}/api/chats/${group}/avatar`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'multipart/form-data; boundary=b' },
      body,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'Malformed multipart body' });
  });

  it('a NUL character in a message is refused (400) on every backend, and never fails the other sends of its batch', async () => {
    const core = t.server.core;
    const rest = await api(t, owner, 'POST', `/api/chats/${group}/messages`, { content: 'a\u0000b' });
    expect(rest.status).toBe(400);
    expect(rest.body).toEqual({ error: 'Message text must not contain NUL characters' });
    expect((await api(t, owner, 'POST', `/api/chats/${group}/messages`, { content: 'ok', type: 'T\u0000' })).status).toBe(400);
    const hub = await JsonSocket.open(`${t.wsUrl}/api/v1/ws`, { token: owner.token });
    hub.send({ type: 'message', data: { conversation_id: String(group), body: '\u0000' } });
    expect((await hub.next((f) => f.type === 'error')).data.error).toBe('Message text must not contain NUL characters');
    hub.close();
    // Sends accepted together are committed together: a bad one must not take the good ones down.
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => core.sendMessage(owner.id, { chatId: group, text: i % 2 ? `good ${i}` : `bad\u0000${i}` })));
    expect(results.filter((r, i) => i % 2 === 1 && r.status === 'fulfilled')).toHaveLength(10);
    expect(results.filter((r, i) => i % 2 === 0 && r.status === 'rejected')).toHaveLength(10);
  });

  it('a NUL character in a user id or a token is a 400 / 401, never a 500', async () => {
    const nul = encodeURIComponent('a\u0000b');
    for (const [method, path] of [
      ['GET', `/api/v1/chat/presence/${nul}`],
      ['POST', `/api/chats/personal/${nul}`],
      ['GET', `/api/chats/personal/${nul}/id`],
      ['POST', `/api/v1/chat/${nul}`],
      ['GET', `/api/v1/user/${nul}`],
    ] as const) {
      expect((await api(t, owner, method, path)).status, path).toBe(400);
    }
    expect((await api(t, owner, 'POST', `/api/v1/chat/direct/${nul}/send`, { body: 'hi' })).status).toBe(400);
    expect((await api(t, owner, 'PUT', `/api/chats/${group}/participants`, { action: 'add', userId: 'a\u0000b' })).status).toBe(400);
    expect((await api(t, owner, 'POST', '/api/chats', { type: 'group', name: 'g', participantIds: ['a\u0000b'] })).status).toBe(400);
    const badSub = await tokenFor('x\u0000y');
    expect((await api(t, { id: 'x', token: badSub, username: '' }, 'GET', '/auth/whoami')).status).toBe(401);
    // A claim holding NUL is ignored; the rest of the token works.
    const badClaims = await tokenFor('nul-claims', { username: 'u\u0000', name: 'n\u0000', email: 'e\u0000@x' });
    const who = await api(t, { id: 'nul-claims', token: badClaims, username: '' }, 'GET', '/auth/whoami');
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({ id: 'nul-claims', username: null, email: null });
  });

  it('a NUL character in a name, description, profile field or login is a 400/401, never a 500', async () => {
    const form = (json: unknown): FormData => {
      const f = new FormData();
      f.set('json', JSON.stringify(json));
      return f;
    };
    const post = (path: string, body: FormData) => fetch(`${t.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${owner.token}` }, body });
    expect((await post('/api/v1/group', form({ name: 'g\u0000' }))).status).toBe(400);
    expect((await post('/api/v1/group', form({ name: 'g', description: 'd\u0000' }))).status).toBe(400);
    expect((await post('/api/v1/user', form({ description: 'd\u0000' }))).status).toBe(400);
    expect((await post('/api/v1/user', form({ name: 'n\u0000' }))).status).toBe(400);
    expect((await api(t, owner, 'POST', '/api/chats', { type: 'group', name: 'x\u0000y' })).status).toBe(400);
    expect((await api(t, null, 'POST', '/auth/register', { username: 'nulname', password: 'correct horse battery', name: 'a\u0000' })).status).toBe(400);
    expect((await api(t, null, 'POST', '/auth/register', { username: 'nulmail', password: 'correct horse battery', email: 'a\u0000@x.y' })).status).toBe(400);
    expect((await api(t, null, 'POST', '/auth/login', { email: 'a\u0000@x.y', password: 'correct horse battery' })).status).toBe(401);
    expect((await api(t, null, 'POST', '/auth/login', { username: 'a\u0000', password: 'correct horse battery' })).status).toBe(401);
  });

  it('stomp over SockJS: a non-string element in the SockJS message array is a protocol ERROR, not an internal error', async () => {
    const ws = new WebSocket(`${t.wsUrl}/ws-chat/000/regress1/websocket`);
    const got: string[] = [];
    ws.on('message', (d: Buffer) => got.push(d.toString('utf8')));
    await waitFor(() => got.includes('o'), 5000, 'sockjs open');
    ws.send(JSON.stringify([`CONNECT\naccept-version:1.2\nhost:x\nAuthorization:Bearer ${owner.token}\n\n\u0000`]));
    await waitFor(() => got.some((m) => m.includes('CONNECTED')), 5000, 'CONNECTED');
    ws.send(JSON.stringify([null, { x: 1 }]));
    const error = await waitFor(() => got.find((m) => m.includes('ERROR')), 5000, 'ERROR');
    expect(error).toContain('message:Unknown command');
    ws.terminate();
  });

  it('a huge participant list is a 400 (at most 1000 users per call), not a database error', async () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => String(900_000 + i));
    expect((await api(t, owner, 'POST', '/api/chats', { type: 'group', name: 'big', participantIds: ids(40_000) })).status).toBe(400);
    expect((await api(t, owner, 'POST', `/api/v1/group/${group}/add`, { users: ids(40_000) })).status).toBe(400);
    expect((await api(t, owner, 'DELETE', `/api/v1/group/${group}/delete`, { users: ids(40_000) })).status).toBe(400);
    // Within the cap, unknown users are what they always were: a 404.
    expect((await api(t, owner, 'POST', '/api/chats', { type: 'group', name: 'big', participantIds: ids(1000) })).status).toBe(404);
  });

  it('any store call carrying U+0000 is a bad request on PostgreSQL (the net under every path), found nothing on SQLite', async () => {
    const store = t.server.store;
    if (backend === 'postgres') {
      await expect(store.getUser('a\u0000b')).rejects.toMatchObject({ code: 'bad_request' });
      await expect(store.findUserByUsername('a\u0000b')).rejects.toMatchObject({ code: 'bad_request' });
    } else {
      expect(await store.getUser('a\u0000b')).toBeUndefined();
    }
    // The store still works after a refused call.
    expect((await store.getUser(owner.id))?.id).toBe(owner.id);
  });
});
