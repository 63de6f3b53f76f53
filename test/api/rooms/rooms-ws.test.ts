import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, tokenFor, type TestServer, type TestUser } from '../../support/test-server.js';
import { waitFor } from '../../support/wait.js';
import { JsonSocket } from '../../support/ws-client.js';
import { refusedWith, roomsSocket, sendForm } from './rooms-helpers.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe.each(backends)('rooms WebSockets on %s', (backend) => {
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;
  const open: JsonSocket[] = [];

  const connect = async (path: string, user: TestUser | null): Promise<JsonSocket> => {
    const socket = await roomsSocket(t, path, user);
    open.push(socket);
    return socket;
  };
  /** Connects and consumes the history frame. */
  const join = async (path: string, user: TestUser): Promise<{ socket: JsonSocket; history: any }> => {
    const socket = await connect(path, user);
    return { socket, history: await socket.next((f) => f.type === 'history') };
  };
  const idOf = (u: TestUser): number => Number(u.id);
  const privateChat = async (a: TestUser, b: TestUser): Promise<number> => (await api(t, a, 'POST', `/api/v1/chat/${b.id}`)).body.chat.id;
  const group = async (owner: TestUser, name: string, members: TestUser[]): Promise<number> =>
    (await sendForm(t, owner, '/api/v1/group', { json: { name, users: members.map((m) => ({ id: idOf(m), name: m.username })) } })).body.group.id;

  /** A WebSocket handshake by hand, to read a refusal's status and body. */
  const rawUpgrade = (path: string, token: string | null): Promise<{ status: number; body: unknown }> =>
    new Promise((resolve, reject) => {
      const req = request(`${t.url}${path}`, {
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      });
      req.on('upgrade', (_res, socket) => {
        socket.destroy();
        reject(new Error('upgrade was accepted'));
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    t = await startServer(backend, { coreOverrides: { typingTtlMs: 1500 } });
    [alice, bob, carol, dave] = [await registerUser(t), await registerUser(t), await registerUser(t), await registerUser(t)];
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await t.close();
  });

  it('sends an empty history with "no messages", then delivers a message to both users of a private chat', async () => {
    const chat = await privateChat(alice, bob);
    const a = await join(`/api/v1/chat/${chat}`, alice);
    const b = await join(`/api/v1/chat/${chat}`, bob);
    expect(a.history).toEqual({ type: 'history', messages: [], error: 'no messages' });
    expect(b.history).toEqual({ type: 'history', messages: [], error: 'no messages' });

    // The client's `author` is ignored: the authenticated user is the author.
    a.socket.send({ type: 'message', text: 'hello bob', author: { id: idOf(carol), name: 'mallory' } });
    const expected = { id: expect.any(Number), chat_id: chat, type: 'message', text: 'hello bob', author: { id: idOf(alice), name: alice.username }, time: expect.stringMatching(ISO) };
    const toBob = await b.socket.next((f) => f.type === 'message');
    const toAlice = await a.socket.next((f) => f.type === 'message');
    expect(toBob).toEqual(expected);
    expect(toAlice).toEqual(toBob);

    const stored = await t.server.core.history(bob.id, chat, { limit: 10, offset: 0 });
    expect(stored.map((m) => [m.id, m.senderId, m.text])).toEqual([[toBob.id, alice.id, 'hello bob']]);
  });

  it('sends history on connect with the limit/offset query, oldest first', async () => {
    const chat = await privateChat(alice, carol);
    const sent = [];
    for (let i = 1; i <= 5; i++) sent.push((await t.server.core.sendMessage(i % 2 ? alice.id : carol.id, { chatId: chat, text: `m${i}` })).message);

    const all = await join(`/api/v1/chat/${chat}`, carol);
    expect(all.history.type).toBe('history');
    expect(all.history.error).toBeUndefined();
    expect(all.history.messages.map((m: { text: string }) => m.text)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(all.history.messages[1]).toEqual({
      id: sent[1]!.id,
      chat_id: chat,
      type: 'message',
      text: 'm2',
      author: { id: idOf(carol), name: carol.username },
      time: new Date(sent[1]!.createdAt).toISOString(),
    });

    const page = await join(`/api/v1/chat/${chat}?limit=2&offset=1`, alice);
    expect(page.history.messages.map((m: { text: string }) => m.text)).toEqual(['m3', 'm4']);
    const beyond = await join(`/api/v1/chat/${chat}?offset=10`, alice);
    expect(beyond.history).toEqual({ type: 'history', messages: [], error: 'no messages' });
  });

  it('neither loses nor repeats a message sent while the socket is connecting', async () => {
    const chat = await privateChat(dave, carol);
    const total = 40;
    const sending = (async () => {
      const ids: number[] = [];
      for (let i = 0; i < total; i++) ids.push((await t.server.core.sendMessage(dave.id, { chatId: chat, text: `burst ${i}` })).message.id);
      return ids;
    })();
    const socket = await connect(`/api/v1/chat/${chat}?limit=200`, carol);
    const ids = await sending;
    const history = await socket.next((f) => f.type === 'history');
    const seen: number[] = history.messages.map((m: { id: number }) => m.id);
    while (seen[seen.length - 1] !== ids[ids.length - 1]) seen.push((await socket.next((f) => f.type === 'message')).id);
    expect(seen).toEqual(ids);
    await socket.none((f) => f.type === 'message');
  });

  it('keeps the order of messages sent back to back on one socket', async () => {
    const chat = await privateChat(bob, carol);
    const b = await join(`/api/v1/chat/${chat}`, bob);
    const c = await join(`/api/v1/chat/${chat}`, carol);
    const texts = Array.from({ length: 8 }, (_, i) => `seq-${i}`);
    for (const text of texts) b.socket.send({ type: 'message', text });
    const got = [];
    for (let i = 0; i < texts.length; i++) got.push((await c.socket.next((f) => f.type === 'message')).text);
    expect(got).toEqual(texts);
  });

  it('sends typing and stop_typing to the other user only, in the Message model shape, and expires typing', async () => {
    const chat = await privateChat(alice, dave);
    const a = await join(`/api/v1/chat/${chat}`, alice);
    const d = await join(`/api/v1/chat/${chat}`, dave);

    a.socket.send({ type: 'typing', author: { id: 1, name: 'ignored' } });
    expect(await d.socket.next((f) => f.type === 'typing')).toEqual({ chat_id: chat, type: 'typing', text: '', author: { id: idOf(alice), name: alice.username }, time: expect.stringMatching(ISO) });
    a.socket.send({ type: 'stop_typing' });
    expect(await d.socket.next((f) => f.type === 'stop_typing')).toEqual({ chat_id: chat, type: 'stop_typing', text: '', author: { id: idOf(alice), name: alice.username }, time: expect.stringMatching(ISO) });
    await a.socket.none((f) => f.type === 'typing' || f.type === 'stop_typing');

    // A `typing` not refreshed expires by itself: the server sends the stop.
    d.socket.send({ type: 'typing' });
    expect(await a.socket.next((f) => f.type === 'typing')).toMatchObject({ author: { id: idOf(dave) } });
    expect(await a.socket.next((f) => f.type === 'stop_typing', 10_000)).toMatchObject({ chat_id: chat, author: { id: idOf(dave), name: dave.username } });
  });

  it('fans a group message out to three members, the sender included, and typing to the two others', async () => {
    const id = await group(alice, 'Trio', [bob, carol]);
    const sockets = await Promise.all([alice, bob, carol].map((u) => join(`/api/v1/group/${id}`, u)));
    for (const s of sockets) expect(s.history).toEqual({ type: 'history', messages: [], error: 'no messages' });
    const [a, b, c] = sockets.map((s) => s.socket) as [JsonSocket, JsonSocket, JsonSocket];

    b.send({ type: 'message', text: 'hi all' });
    for (const s of [a, b, c]) {
      expect(await s.next((f) => f.type === 'message')).toMatchObject({ chat_id: id, type: 'message', text: 'hi all', author: { id: idOf(bob), name: bob.username } });
    }
    c.send({ type: 'typing' });
    for (const s of [a, b]) expect(await s.next((f) => f.type === 'typing')).toMatchObject({ chat_id: id, author: { id: idOf(carol) } });
    c.send({ type: 'stop_typing' });
    for (const s of [a, b]) expect(await s.next((f) => f.type === 'stop_typing')).toMatchObject({ chat_id: id, author: { id: idOf(carol) } });
    await c.none((f) => f.type === 'typing' || f.type === 'stop_typing');
  });

  it('delivers a message sent through another path (the core) to the chat sockets and to /api/v1/main', async () => {
    const id = await group(carol, 'Cross', [dave, bob]);
    const main = await connect('/api/v1/main', dave);
    const other = await connect('/api/v1/main', alice); // not in the group
    const d = await join(`/api/v1/group/${id}`, dave);

    const { message } = await t.server.core.sendMessage(carol.id, { chatId: id, text: 'from elsewhere' });
    const expected = { id: message.id, chat_id: id, text: 'from elsewhere', author: { id: idOf(carol), name: carol.username }, time: new Date(message.createdAt).toISOString() };
    expect(await main.next((f) => f.type === 'last_message')).toEqual({ ...expected, type: 'last_message' });
    expect(await d.socket.next((f) => f.type === 'message')).toEqual({ ...expected, type: 'message' });

    // A message sent on a chat socket reaches the main socket as well, in any chat of the user.
    const chat = await privateChat(dave, bob);
    const b = await join(`/api/v1/chat/${chat}`, bob);
    b.socket.send({ type: 'message', text: 'private ping' });
    expect(await main.next((f) => f.type === 'last_message')).toMatchObject({ chat_id: chat, type: 'last_message', text: 'private ping', author: { id: idOf(bob) } });
    await other.none((f) => f.type === 'last_message');
  });

  it('answers bad frames with an error frame and keeps the socket open', async () => {
    const chat = await privateChat(carol, dave);
    const { socket } = await join(`/api/v1/chat/${chat}`, carol);
    const before = (await t.server.core.history(carol.id, chat, { limit: 200, offset: 0 })).length;
    const cases: [unknown, RegExp][] = [
      ['not json {', /Invalid JSON/],
      ['[1,2]', /JSON object/],
      ['"text"', /JSON object/],
      ['null', /JSON object/],
      [{ text: 'no type' }, /type is required/],
      [{ type: 'dance' }, /Unknown message type: dance/],
      [{ type: 42 }, /Unknown message type: 42/],
      [{ type: 'message' }, /must be a string/],
      [{ type: 'message', text: 7 }, /must be a string/],
      [{ type: 'message', text: '   ' }, /cannot be empty/],
      [{ type: 'message', text: 'x'.repeat(1001) }, /exceeds 1000 characters/],
      [{ type: 'history' }, /Unknown message type: history/],
    ];
    for (const [frame, error] of cases) {
      socket.send(frame);
      const reply = await socket.next((f) => f.type === 'error');
      expect(reply).toEqual({ type: 'error', error: expect.stringMatching(error) });
    }
    socket.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await socket.next((f) => f.type === 'error')).toEqual({ type: 'error', error: 'Binary frames are not supported' });

    expect(socket.closeCode).toBeNull();
    socket.send({ type: 'message', text: 'still here' });
    expect(await socket.next((f) => f.type === 'message')).toMatchObject({ text: 'still here' });
    // Nothing a bad frame carried was stored: the newest message is the good one, and only it is new.
    expect((await t.server.core.history(carol.id, chat, { limit: 1, offset: 0 })).map((m) => m.text)).toEqual(['still here']);
    expect((await t.server.core.history(carol.id, chat, { limit: 200, offset: 0 })).length).toBe(before + 1);
  });

  it('serves several sockets of one user (devices): all get messages, none gets its own typing', async () => {
    const chat = await privateChat(bob, dave);
    const phone = await join(`/api/v1/chat/${chat}`, bob);
    const laptop = await join(`/api/v1/chat/${chat}`, bob);
    const d = await join(`/api/v1/chat/${chat}`, dave);
    phone.socket.send({ type: 'typing' });
    expect(await d.socket.next((f) => f.type === 'typing')).toMatchObject({ author: { id: idOf(bob) } });
    phone.socket.send({ type: 'message', text: 'from the phone' });
    for (const s of [phone.socket, laptop.socket, d.socket]) expect(await s.next((f) => f.type === 'message')).toMatchObject({ text: 'from the phone' });
    await laptop.socket.none((f) => f.type === 'typing');
  });

  it('answers a frame on /api/v1/main with an error frame', async () => {
    const main = await connect('/api/v1/main', carol);
    main.send({ type: 'message', text: 'nowhere' });
    expect(await main.next((f) => f.type === 'error')).toEqual({ type: 'error', error: expect.any(String) });
    expect(main.closeCode).toBeNull();
  });

  it('refuses upgrades with a clear HTTP status before a socket exists', async () => {
    const chat = await privateChat(alice, bob);
    const id = await group(alice, 'Refusals', [bob]);
    const status = (path: string, user: TestUser | null) => refusedWith(roomsSocket(t, path, user));
    const anon = { ...alice, token: 'garbage' };
    const expired = { ...alice, token: await tokenFor(alice.id, {}, { expiresIn: '-10s' }) };

    expect(await status(`/api/v1/chat/${chat}`, null)).toBe(401);
    expect(await status(`/api/v1/chat/${chat}`, anon)).toBe(401);
    expect(await status(`/api/v1/chat/${chat}`, expired)).toBe(401);
    expect(await status(`/api/v1/group/${id}`, null)).toBe(401);
    expect(await status('/api/v1/main', null)).toBe(401);
    expect(await status('/api/v1/main', anon)).toBe(401);

    expect(await status(`/api/v1/chat/${chat}`, carol)).toBe(403);
    expect(await status(`/api/v1/group/${id}`, carol)).toBe(403);
    expect(await status('/api/v1/chat/99999', alice)).toBe(404);
    expect(await status('/api/v1/group/99999', alice)).toBe(404);
    expect(await status(`/api/v1/group/${chat}`, alice)).toBe(404);
    expect(await status(`/api/v1/chat/${id}`, alice)).toBe(404);
    for (const bad of ['abc', '0', '-1', '1.5']) {
      expect(await status(`/api/v1/chat/${bad}`, alice)).toBe(400);
      expect(await status(`/api/v1/group/${bad}`, alice)).toBe(400);
    }
    for (const q of ['limit=-1', 'limit=x', 'offset=1.5']) expect(await status(`/api/v1/chat/${chat}?${q}`, alice)).toBe(400);

    // The refusal is a plain HTTP response with a JSON `{"error"}` body.
    expect(await rawUpgrade(`/api/v1/chat/${chat}`, carol.token)).toEqual({ status: 403, body: { error: expect.any(String) } });
    expect(await rawUpgrade('/api/v1/main', null)).toEqual({ status: 401, body: { error: expect.any(String) } });
  });

  it('accepts the token as ?token= and ?access_token=', async () => {
    const chat = await privateChat(alice, bob);
    const viaToken = await JsonSocket.open(`${t.wsUrl}/api/v1/chat/${chat}?token=${alice.token}&limit=1`);
    open.push(viaToken);
    expect(await viaToken.next((f) => f.type === 'history')).toMatchObject({ type: 'history' });
    const viaAccess = await JsonSocket.open(`${t.wsUrl}/api/v1/main?access_token=${bob.token}`);
    open.push(viaAccess);
    await t.server.core.sendMessage(alice.id, { chatId: chat, text: 'query tokens' });
    expect(await viaAccess.next((f) => f.type === 'last_message')).toMatchObject({ text: 'query tokens' });
    expect(await viaToken.next((f) => f.type === 'message')).toMatchObject({ text: 'query tokens' });
  });

  it('closes the socket of a user removed from the group (4403) and every socket when it is deleted (4404)', async () => {
    const id = await group(alice, 'Shrinking', [bob, carol]);
    const [a, b, c] = (await Promise.all([alice, bob, carol].map((u) => join(`/api/v1/group/${id}`, u)))).map((s) => s.socket) as [JsonSocket, JsonSocket, JsonSocket];
    const carolMain = await connect('/api/v1/main', carol);

    expect((await api(t, alice, 'DELETE', `/api/v1/group/${id}/delete`, { users: [{ id: idOf(carol) }] })).status).toBe(200);
    expect(await c.closed()).toMatchObject({ code: 4403 });
    expect(a.closeCode).toBeNull();
    expect(b.closeCode).toBeNull();
    expect(await refusedWith(roomsSocket(t, `/api/v1/group/${id}`, carol))).toBe(403);

    // Carol no longer hears the group; her main socket stays open for her other chats.
    a.send({ type: 'message', text: 'after carol left' });
    expect(await b.next((f) => f.type === 'message')).toMatchObject({ text: 'after carol left' });
    await carolMain.none((f) => f.type === 'last_message');
    expect(carolMain.closeCode).toBeNull();

    // A member leaving by itself is closed the same way.
    expect((await api(t, bob, 'DELETE', `/api/v1/group/${id}/delete`, { users: [{ id: idOf(bob) }] })).status).toBe(200);
    expect(await b.closed()).toMatchObject({ code: 4403 });

    expect((await api(t, alice, 'DELETE', `/api/v1/group/${id}`)).status).toBe(200);
    expect(await a.closed()).toMatchObject({ code: 4404 });
  });

  it('lets a member added later connect and receive messages', async () => {
    const id = await group(alice, 'Growing', [bob]);
    expect(await refusedWith(roomsSocket(t, `/api/v1/group/${id}`, dave))).toBe(403);
    expect((await api(t, alice, 'POST', `/api/v1/group/${id}/add`, { users: [{ id: idOf(dave) }] })).status).toBe(200);
    const d = await join(`/api/v1/group/${id}`, dave);
    const a = await join(`/api/v1/group/${id}`, alice);
    d.socket.send({ type: 'typing' });
    expect(await a.socket.next((f) => f.type === 'typing')).toEqual(expect.objectContaining({ author: { id: idOf(dave), name: dave.username } }));
    a.socket.send({ type: 'message', text: 'welcome' });
    expect(await d.socket.next((f) => f.type === 'message')).toMatchObject({ text: 'welcome', author: { id: idOf(alice) } });
  });

  it('counts a rooms socket for presence while it is open', async () => {
    const loner = await registerUser(t);
    expect((await t.server.core.presenceOf(loner.id)).online).toBe(false);
    const main = await connect('/api/v1/main', loner);
    expect((await t.server.core.presenceOf(loner.id)).online).toBe(true);
    main.close();
    await main.closed();
    await waitFor(async () => !(await t.server.core.presenceOf(loner.id)).online, 5000, 'offline');
  });
});

describe.each(backends)('rooms WebSocket rate limit on %s', (backend) => {
  let t: TestServer;
  afterAll(async () => t?.close());

  it('answers a send past the rate limit with an error frame and keeps the socket open', async () => {
    t = await startServer(backend, { env: { RATE_LIMIT_MESSAGES: '2', RATE_LIMIT_WINDOW_S: '3600' } });
    const [a, b] = [await registerUser(t), await registerUser(t)];
    const chat = (await api(t, a, 'POST', `/api/v1/chat/${b.id}`)).body.chat.id;
    const socket = await roomsSocket(t, `/api/v1/chat/${chat}`, a);
    await socket.next((f) => f.type === 'history');
    for (const text of ['one', 'two', 'three']) socket.send({ type: 'message', text });
    expect(await socket.next((f) => f.type === 'error')).toEqual({ type: 'error', error: 'Rate limit exceeded' });
    expect((await socket.next((f) => f.type === 'message')).text).toBe('one');
    expect((await socket.next((f) => f.type === 'message')).text).toBe('two');
    expect(socket.closeCode).toBeNull();
    expect((await t.server.core.history(a.id, chat, { limit: 10, offset: 0 })).map((m) => m.text)).toEqual(['one', 'two']);
    socket.close();
  });
});
