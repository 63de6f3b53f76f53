import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';
import { sleep, waitFor } from '../../support/wait.js';
import { StompTestClient } from './stomp-clients.js';

describe.each(backends)('stomp over WebSocket on %s', (backend) => {
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let mallory: TestUser;
  let chatId: number;
  const open: StompTestClient[] = [];
  const connect = async (user: TestUser | null, options: Parameters<typeof StompTestClient.connect>[2] = {}) => {
    const c = await StompTestClient.connect(t, user?.token ?? null, options);
    open.push(c);
    return c;
  };
  beforeAll(async () => {
    t = await startServer(backend, { coreOverrides: { receiptFlushMs: 20 } });
    alice = await registerUser(t);
    bob = await registerUser(t);
    mallory = await registerUser(t);
    chatId = Number((await api(t, alice, 'POST', '/api/chats', { type: 'group', name: 'Team', participantIds: [bob.id] })).body.id);
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close().catch(() => {})));
    await t.close();
  });

  it.each([
    ['WebSocket', {}],
    ['SockJS websocket', { sockjs: true, transport: 'websocket' as const }],
    ['SockJS xhr-streaming', { sockjs: true, transport: 'xhr-streaming' as const }],
  ])('announces every MESSAGE_DELIVERED of a flush, several frames to one wire message, over %s', async (_name, options) => {
    const carol = await registerUser(t);
    const dave = await registerUser(t);
    const group = Number((await api(t, alice, 'POST', '/api/chats', { type: 'group', name: 'Receipts', participantIds: [bob.id, carol.id, dave.id] })).body.id);
    const a = await connect(alice, options);
    await a.subscribe(`/topic/chat/${group}`);
    const readers = await Promise.all([bob, carol, dave].map((u) => connect(u)));
    for (const r of readers) await r.subscribe(`/topic/chat/${group}`);
    for (const text of ['one', 'two', 'three']) a.send(`/app/chat/${group}/sendMessage`, { content: text, type: 'TEXT' });
    const ids = new Set<number>();
    await waitFor(() => {
      for (const m of a.messages) if (m.body.type === 'MESSAGE' && m.body.chatId === group) ids.add(Number(m.body.payload.id));
      return ids.size === 3;
    });
    const delivered = (): string[] =>
      a.messages.filter((m) => m.body.type === 'MESSAGE_DELIVERED' && m.body.chatId === group).map((m) => `${m.body.payload.messageId}:${m.body.payload.userId}`);
    // 3 messages × 3 recipients, each exactly once.
    await waitFor(() => delivered().length >= 9, 5000, 'nine MESSAGE_DELIVERED');
    await sleep(100);
    expect(delivered().sort()).toEqual([...ids].flatMap((id) => [bob, carol, dave].map((u) => `${id}:${u.id}`)).sort());
    await Promise.all([a, ...readers].map((c) => c.close()));
  });

  it('carries MESSAGE, NEW_MESSAGE and MESSAGE_DELIVERED between two users', async () => {
    const a = await connect(alice);
    const b = await connect(bob);
    for (const c of [a, b]) {
      await c.subscribe(`/topic/chat/${chatId}`);
      await c.subscribe('/user/queue/notifications');
    }
    a.send(`/app/chat/${chatId}/sendMessage`, { content: 'Hello', type: 'TEXT' });
    const onB = await b.next(`/topic/chat/${chatId}`, (e) => e.type === 'MESSAGE');
    expect(onB).toMatchObject({ type: 'MESSAGE', chatId, timestamp: expect.any(Number), payload: { conversationId: String(chatId), senderId: alice.id, content: 'Hello', type: 'TEXT', replyToMessageId: null } });
    expect(onB.payload.id).toMatch(/^\d+$/);
    expect(Date.parse(onB.payload.createdAt)).toBe(onB.timestamp);
    const onA = await a.next(`/topic/chat/${chatId}`, (e) => e.type === 'MESSAGE');
    expect(onA.payload.id).toBe(onB.payload.id);
    const note = await b.next('/user/queue/notifications', (e) => e.type === 'NEW_MESSAGE');
    expect(note).toEqual({ type: 'NEW_MESSAGE', chatId, senderId: alice.id, preview: 'Hello', timestamp: onB.payload.createdAt });
    const delivered = await a.next(`/topic/chat/${chatId}`, (e) => e.type === 'MESSAGE_DELIVERED');
    expect(delivered).toMatchObject({ chatId, payload: { messageId: Number(onB.payload.id), userId: bob.id } });
    await sleep(200);
    expect(a.messages.filter((m) => m.body.type === 'NEW_MESSAGE')).toEqual([]);
    const frame = b.messages.find((m) => m.body.type === 'MESSAGE')!;
    expect(frame.headers).toMatchObject({ destination: `/topic/chat/${chatId}`, 'content-type': 'application/json', subscription: expect.any(String), 'message-id': expect.any(String) });

    // a reply of the same chat; previews are the first 50 characters
    b.send(`/app/chat/${chatId}/sendMessage`, { content: 'x'.repeat(60), replyToMessageId: Number(onB.payload.id) });
    const reply = await a.next(`/topic/chat/${chatId}`, (e) => e.type === 'MESSAGE' && e.payload.senderId === bob.id);
    expect(reply.payload.replyToMessageId).toBe(Number(onB.payload.id));
    expect((await a.next('/user/queue/notifications', (e) => e.type === 'NEW_MESSAGE')).preview).toBe('x'.repeat(50));
    await Promise.all([a.close(), b.close()]);
  });

  it('one message keeps one message-id on every connection; each subscription sees its own id and destination', async () => {
    // Frames are built once per body and subscription head and shared across connections.
    const a = await connect(alice);
    const b1 = await connect(bob);
    const b2 = await connect(bob, { sockjs: true, transport: 'xhr-streaming' });
    await a.subscribe(`/topic/chat/${chatId}`);
    await b1.subscribe(`/topic/chat/${chatId}`);
    await b2.subscribe('/user/queue/notifications');
    await b2.subscribe(`/topic/chat/${chatId}`);
    for (const text of ['shared-1', 'shared-2']) a.send(`/app/chat/${chatId}/sendMessage`, { content: text, type: 'TEXT' });
    const frames = async (c: StompTestClient) => {
      await waitFor(() => c.messages.filter((m) => m.body.type === 'MESSAGE' && String(m.body.payload.content).startsWith('shared-')).length === 2);
      return c.messages.filter((m) => m.body.type === 'MESSAGE' && String(m.body.payload.content).startsWith('shared-'));
    };
    const [onA, onB1, onB2] = await Promise.all([frames(a), frames(b1), frames(b2)]);
    const ids = (list: typeof onA) => list.map((m) => m.headers['message-id']);
    expect(new Set(ids(onA)).size).toBe(2);
    expect(ids(onB1)).toEqual(ids(onA));
    expect(ids(onB2)).toEqual(ids(onA));
    for (const [client, list] of [[a, onA], [b1, onB1], [b2, onB2]] as const) {
      const own = client.messages.find((m) => m.destination === `/topic/chat/${chatId}`)!;
      for (const m of list) expect(m.headers).toMatchObject({ destination: `/topic/chat/${chatId}`, subscription: own.headers.subscription });
    }
    expect(onB2[0]!.headers.subscription).not.toBe(onB1[0]!.headers.subscription);
    await Promise.all([a.close(), b1.close(), b2.close()]);
  });

  it('shows TYPING to the other member and loads history with beforeMessageId', async () => {
    const a = await connect(alice);
    const b = await connect(bob);
    await b.subscribe(`/topic/chat/${chatId}`);
    await a.subscribe(`/topic/chat/${chatId}`);
    a.send(`/app/chat/${chatId}/typing`, true);
    expect(await b.next(`/topic/chat/${chatId}`, (e) => e.type === 'TYPING')).toMatchObject({ type: 'TYPING', chatId, timestamp: expect.any(Number), payload: { userId: alice.id, typing: true } });
    a.send(`/app/chat/${chatId}/typing`, false);
    await b.next(`/topic/chat/${chatId}`, (e) => e.type === 'TYPING' && e.payload.typing === false);
    expect(a.messages.filter((m) => m.body.type === 'TYPING')).toEqual([]);

    const ids: string[] = [];
    for (const content of ['h1', 'h2', 'h3', 'h4']) ids.push((await api(t, bob, 'POST', `/api/chats/${chatId}/messages`, { content })).body.id);
    await a.subscribe('/user/queue/history');
    a.send(`/app/chat/${chatId}/loadHistory`, { offset: 0, limit: 2, beforeMessageId: Number(ids[3]) });
    const h = await a.next('/user/queue/history');
    expect(h).toMatchObject({ type: 'HISTORY', chatId, payload: { chatId, offset: 0, limit: 2, beforeMessageId: Number(ids[3]) } });
    expect(h.payload.messages.map((m: any) => m.content)).toEqual(['h2', 'h3']);
    a.send(`/app/chat/${chatId}/loadHistory`, { offset: 0, limit: 50 });
    const all = await a.next('/user/queue/history', (e) => e.payload.beforeMessageId === null);
    expect(all.payload.messages.at(-1).content).toBe('h4');
    await Promise.all([a.close(), b.close()]);
  });

  it('sends USER_ONLINE / USER_OFFLINE to subscribers of shared chats, and /online sees every live user', async () => {
    const a = await connect(alice);
    await a.subscribe(`/topic/chat/${chatId}`);
    const b = await connect(bob);
    expect(await a.next(`/topic/chat/${chatId}`, (e) => e.type === 'USER_ONLINE' && e.payload.userId === bob.id)).toMatchObject({ chatId, payload: { status: 'ONLINE' } });
    const online = await api(t, alice, 'GET', `/api/chats/${chatId}/online`);
    expect(online.body.onlineUserIds).toEqual(expect.arrayContaining([alice.id, bob.id]));
    await b.close();
    expect(await a.next(`/topic/chat/${chatId}`, (e) => e.type === 'USER_OFFLINE' && e.payload.userId === bob.id)).toMatchObject({ payload: { status: 'OFFLINE' } });
    await a.close();
  });

  it('sends NEW_CHAT to members added to a chat, except the actor; a removed member stops receiving', async () => {
    const b = await connect(bob);
    const a = await connect(alice);
    await b.subscribe('/user/queue/notifications');
    await a.subscribe('/user/queue/notifications');
    const g = (await api(t, alice, 'POST', '/api/chats', { type: 'group', name: 'Fresh', participantIds: [bob.id] })).body;
    expect(await b.next('/user/queue/notifications', (e) => e.type === 'NEW_CHAT')).toMatchObject({ type: 'NEW_CHAT', chatId: Number(g.id), senderId: alice.id, preview: 'Fresh' });
    const p = (await api(t, mallory, 'POST', `/api/chats/personal/${bob.id}`)).body;
    expect(await b.next('/user/queue/notifications', (e) => e.type === 'NEW_CHAT' && e.chatId === Number(p.id))).toMatchObject({ senderId: mallory.id, preview: mallory.username });
    const g2 = (await api(t, alice, 'POST', '/api/chats', { type: 'group', name: 'Later', participantIds: [] })).body;
    await api(t, alice, 'PUT', `/api/chats/${g2.id}/participants`, { action: 'add', userId: bob.id });
    expect(await b.next('/user/queue/notifications', (e) => e.type === 'NEW_CHAT' && e.chatId === Number(g2.id))).toMatchObject({ senderId: alice.id, preview: 'Later' });
    await sleep(200);
    expect(a.messages.filter((m) => m.body.type === 'NEW_CHAT')).toEqual([]);

    await b.subscribe(`/topic/chat/${g2.id}`);
    await api(t, alice, 'PUT', `/api/chats/${g2.id}/participants`, { action: 'remove', userId: bob.id });
    await api(t, alice, 'POST', `/api/chats/${g2.id}/messages`, { content: 'secret' });
    // Added back, the old subscription stays dropped: the client must subscribe again.
    await api(t, alice, 'PUT', `/api/chats/${g2.id}/participants`, { action: 'add', userId: bob.id });
    await b.next('/user/queue/notifications', (e) => e.type === 'NEW_CHAT' && e.chatId === Number(g2.id) && b.messages.filter((m) => m.body.chatId === Number(g2.id)).length === 2);
    await api(t, alice, 'POST', `/api/chats/${g2.id}/messages`, { content: 'after re-add' });
    await sleep(300);
    expect(b.messages.filter((m) => m.destination === `/topic/chat/${g2.id}`)).toEqual([]);
    await b.subscribe(`/topic/chat/${g2.id}`);
    await api(t, alice, 'POST', `/api/chats/${g2.id}/messages`, { content: 'resubscribed' });
    await b.next(`/topic/chat/${g2.id}`, (e) => e.type === 'MESSAGE' && e.payload.content === 'resubscribed');
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses a non-member with ERROR Access denied, for SUBSCRIBE and SEND', async () => {
    const m = await connect(mallory);
    m.client.subscribe(`/topic/chat/${chatId}`, () => {});
    expect((await m.error()).headers['message']).toBe('Access denied');
    await waitFor(() => m.closed, 5000, 'close after ERROR');
    const m2 = await connect(mallory);
    m2.send(`/app/chat/${chatId}/sendMessage`, { content: 'hi' });
    expect((await m2.error()).headers['message']).toBe('Access denied');
    const m3 = await connect(mallory);
    m3.client.subscribe('/topic/chat/999999', () => {});
    expect((await m3.error()).headers['message']).toBe('Access denied');
    const history = await api(t, alice, 'GET', `/api/chats/${chatId}/messages?limit=200`);
    expect(history.body.some((x: any) => x.senderId === mallory.id)).toBe(false);
  });

  it('authenticates by CONNECT header token, ?token= on the URL, and refuses a missing or bad token', async () => {
    (await connect(null, { connectHeaders: { token: alice.token } })).client.deactivate();
    (await connect(null, { connectHeaders: { authorization: `Bearer ${alice.token}` } })).client.deactivate();
    (await connect(null, { connectHeaders: {}, query: `?token=${alice.token}` })).client.deactivate();
    await expect(StompTestClient.connect(t, null, { connectHeaders: {} })).rejects.toThrow(/Unauthorized/);
    await expect(StompTestClient.connect(t, null, { connectHeaders: { Authorization: 'Bearer nope' } })).rejects.toThrow(/Unauthorized/);
  });

  it('answers bad SEND input with an ERROR frame and stores nothing', async () => {
    const cases: [string, string, RegExp][] = [
      [`/app/chat/${chatId}/sendMessage`, '{"content":', /Invalid JSON/],
      [`/app/chat/${chatId}/sendMessage`, JSON.stringify({ content: '   ' }), /.+/],
      [`/app/chat/${chatId}/sendMessage`, JSON.stringify({ content: 'x'.repeat(1001) }), /.+/],
      [`/app/chat/${chatId}/sendMessage`, JSON.stringify({ content: 'r', replyToMessageId: 99999999 }), /replyTo/],
      [`/app/chat/${chatId}/typing`, '"yes"', /typing/],
      [`/app/chat/${chatId}/loadHistory`, JSON.stringify({ limit: -1 }), /limit/],
      // An empty value is not a number either (issue 16.2).
      [`/app/chat/${chatId}/loadHistory`, JSON.stringify({ limit: '' }), /limit must be a non-negative integer/],
      [`/app/chat/${chatId}/loadHistory`, JSON.stringify({ offset: '' }), /offset must be a non-negative integer/],
      [`/app/chat/${chatId}/nothing`, '{}', /Unknown destination/],
      ['/topic/chat/1', '{}', /Unknown destination/],
    ];
    const other = (await api(t, alice, 'POST', '/api/chats', { type: 'group', name: 'Other', participantIds: [] })).body;
    const foreign = (await api(t, alice, 'POST', `/api/chats/${other.id}/messages`, { content: 'elsewhere' })).body;
    cases.push([`/app/chat/${chatId}/sendMessage`, JSON.stringify({ content: 'r', replyToMessageId: Number(foreign.id) }), /same chat/]);
    const before = (await api(t, alice, 'GET', `/api/chats/${chatId}/messages?limit=200`)).body.length;
    for (const [destination, body, message] of cases) {
      const c = await connect(alice);
      c.send(destination, body);
      const err = await c.error();
      expect(err.headers['message']).toMatch(message);
      expect(err.body.length).toBeGreaterThan(0);
      await waitFor(() => c.closed, 5000, 'close after ERROR');
    }
    const c = await connect(alice);
    c.client.subscribe('/queue/elsewhere', () => {});
    expect((await c.error()).headers['message']).toBe('Unknown destination');
    expect((await api(t, alice, 'GET', `/api/chats/${chatId}/messages?limit=200`)).body.length).toBe(before);
  });

  it('reconnect scenario: messages sent while disconnected come back from missed-messages?since=', async () => {
    const b = await connect(bob);
    await b.subscribe(`/topic/chat/${chatId}`);
    await b.subscribe('/user/queue/notifications');
    b.send(`/app/chat/${chatId}/sendMessage`, { content: 'seen' });
    const seen = await b.next(`/topic/chat/${chatId}`, (e) => e.type === 'MESSAGE' && e.payload.content === 'seen');
    await b.close();
    const lastSeenAt = seen.payload.createdAt;
    const a = await connect(alice);
    for (const content of ['missed 1', 'missed 2', 'missed 3']) await a.sendWithReceipt(`/app/chat/${chatId}/sendMessage`, { content });
    const b2 = await connect(bob);
    await b2.subscribe(`/topic/chat/${chatId}`);
    await b2.subscribe('/user/queue/notifications');
    const missed = await api(t, bob, 'GET', `/api/chats/${chatId}/missed-messages?since=${encodeURIComponent(lastSeenAt)}`);
    expect(missed.status).toBe(200);
    expect(missed.body.map((m: any) => m.content)).toEqual(['missed 1', 'missed 2', 'missed 3']);
    a.send(`/app/chat/${chatId}/sendMessage`, { content: 'live again' });
    await b2.next(`/topic/chat/${chatId}`, (e) => e.type === 'MESSAGE' && e.payload.content === 'live again');
    await Promise.all([a.close(), b2.close()]);
  });

  it('gives each of a user\'s sessions its copy of /user/queue destinations', async () => {
    const b1 = await connect(bob);
    const b2 = await connect(bob);
    for (const b of [b1, b2]) {
      await b.subscribe('/user/queue/notifications');
      await b.subscribe('/user/queue/history');
    }
    await b1.subscribe('/user/queue/errors');
    expect(b1.errors).toEqual([]);
    await api(t, alice, 'POST', `/api/chats/${chatId}/messages`, { content: 'to both devices' });
    for (const b of [b1, b2]) await b.next('/user/queue/notifications', (e) => e.type === 'NEW_MESSAGE' && e.preview === 'to both devices');
    b1.send(`/app/chat/${chatId}/loadHistory`, { limit: 1 });
    for (const b of [b1, b2]) expect((await b.next('/user/queue/history')).payload.messages.map((m: any) => m.content)).toEqual(['to both devices']);
    await Promise.all([b1.close(), b2.close()]);
  });

  it('carries a message sent through the core (another dialect) to a STOMP subscriber', async () => {
    const b = await connect(bob);
    await b.subscribe(`/topic/chat/${chatId}`);
    await t.server.core.sendMessage(alice.id, { chatId, text: 'from elsewhere' });
    expect((await b.next(`/topic/chat/${chatId}`, (e) => e.type === 'MESSAGE' && e.payload.content === 'from elsewhere')).payload.senderId).toBe(alice.id);
    await b.close();
  });
});
