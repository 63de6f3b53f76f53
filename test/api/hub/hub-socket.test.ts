import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, tokenFor, type TestServer, type TestUser } from '../../support/test-server.js';
import { waitFor } from '../../support/wait.js';
import { JsonSocket } from '../../support/ws-client.js';

describe.each(backends)('hub WebSocket on %s', (backend) => {
  let t: TestServer;
  const open: JsonSocket[] = [];

  beforeAll(async () => {
    t = await startServer(backend, { env: { MAX_MESSAGE_LENGTH: '50', MAX_FRAME_BYTES: '4096' }, coreOverrides: { typingTtlMs: 1000 } });
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await t.close();
  });

  const connect = async (user: TestUser): Promise<JsonSocket> => {
    const s = await JsonSocket.open(`${t.wsUrl}/api/v1/ws`, { token: user.token });
    open.push(s);
    return s;
  };
  /** A private conversation between two fresh users, opened through the hub REST route. */
  const pair = async (): Promise<{ a: TestUser; b: TestUser; chatId: string }> => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const res = await api(t, a, 'POST', `/api/v1/chat/direct/${b.id}/send`, { body: 'first' });
    expect(res.status).toBe(200);
    return { a, b, chatId: res.body.message.conversation_id };
  };
  const isMessage = (body: string) => (f: any) => f.type === 'message' && f.data.body === body;

  it('delivers a socket message to both users and to every device of each, sender included', async () => {
    const { a, b, chatId } = await pair();
    const a1 = await connect(a);
    const a2 = await connect(a);
    const b1 = await connect(b);
    const before = Math.floor(Date.now() / 1000);
    a1.send({ type: 'message', data: { conversation_id: chatId, body: 'hello from a1' } });
    const frames = await Promise.all([a1, a2, b1].map((s) => s.next(isMessage('hello from a1'))));
    for (const f of frames) {
      expect(f).toEqual({
        type: 'message',
        data: { id: expect.any(String), conversation_id: chatId, sender_id: a.id, body: 'hello from a1', created_at: expect.any(Number), seq: 2 },
      });
      expect(Number.isInteger(f.data.created_at)).toBe(true);
      expect(f.data.created_at).toBeGreaterThanOrEqual(before);
      expect(f.data.created_at).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    }
    // And the reply comes back the other way, to both of a's devices.
    b1.send({ type: 'message', data: { conversation_id: chatId, body: 'reply from b' } });
    await Promise.all([a1, a2, b1].map((s) => s.next(isMessage('reply from b'))));
    const history = await api(t, b, 'GET', `/api/v1/chat/conversations/${chatId}/messages`);
    expect(history.body.messages.map((m: any) => m.body)).toEqual(['first', 'hello from a1', 'reply from b']);
  });

  it('keeps the order of messages sent in a burst on one socket', async () => {
    const { a, b, chatId } = await pair();
    const a1 = await connect(a);
    const b1 = await connect(b);
    const bodies = Array.from({ length: 10 }, (_, i) => `burst ${i}`);
    for (const body of bodies) a1.send({ type: 'message', data: { conversation_id: chatId, body } });
    const got = [];
    for (let i = 0; i < bodies.length; i++) got.push(await b1.next((f) => f.type === 'message' && f.data.body.startsWith('burst')));
    expect(got.map((f) => f.data.body)).toEqual(bodies);
    expect(got.map((f) => f.data.seq)).toEqual(bodies.map((_, i) => i + 2));
  });

  it('delivers a message sent through the core (another dialect) and through REST direct send', async () => {
    const { a, b, chatId } = await pair();
    const b1 = await connect(b);
    const a1 = await connect(a);
    await t.server.core.sendMessage(a.id, { chatId: Number(chatId), text: 'via the core' });
    const viaCore = await b1.next(isMessage('via the core'));
    expect(viaCore.data).toMatchObject({ conversation_id: chatId, sender_id: a.id });
    await a1.next(isMessage('via the core'));

    const rest = await api(t, a, 'POST', `/api/v1/chat/direct/${b.id}/send`, { body: 'via REST' });
    expect(rest.status).toBe(200);
    const viaRest = await b1.next(isMessage('via REST'));
    expect(viaRest.data).toMatchObject({ id: rest.body.message.id, conversation_id: chatId, sender_id: a.id });
    await a1.next(isMessage('via REST'));
  });

  it('sends typing to the other members only, in both directions', async () => {
    const { a, b, chatId } = await pair();
    const a1 = await connect(a);
    const a2 = await connect(a);
    const b1 = await connect(b);
    a1.send({ type: 'typing', data: { conversation_id: chatId, is_typing: true } });
    const typing = await b1.next((f) => f.type === 'typing');
    expect(typing).toEqual({ type: 'typing', data: { conversation_id: chatId, user_id: a.id, is_typing: true } });
    a1.send({ type: 'typing', data: { conversation_id: chatId, is_typing: false } });
    expect((await b1.next((f) => f.type === 'typing')).data.is_typing).toBe(false);
    b1.send({ type: 'typing', data: { conversation_id: chatId, is_typing: true } });
    expect((await a2.next((f) => f.type === 'typing')).data).toEqual({ conversation_id: chatId, user_id: b.id, is_typing: true });
    await a1.next((f) => f.type === 'typing' && f.data.user_id === b.id);
    await a1.none((f) => f.type === 'typing' && f.data.user_id === a.id);
    await a2.none((f) => f.type === 'typing' && f.data.user_id === a.id);
    await b1.none((f) => f.type === 'typing' && f.data.user_id === b.id);
  });

  it('expires a typing indicator that is not refreshed', async () => {
    const { a, b, chatId } = await pair();
    const a1 = await connect(a);
    const b1 = await connect(b);
    a1.send({ type: 'typing', data: { conversation_id: chatId, is_typing: true } });
    expect((await b1.next((f) => f.type === 'typing')).data.is_typing).toBe(true);
    expect((await b1.next((f) => f.type === 'typing', 5000)).data).toEqual({ conversation_id: chatId, user_id: a.id, is_typing: false });
  });

  it('announces presence online on the first socket and offline with last_seen after the last one', async () => {
    const { a, b } = await pair();
    const a1 = await connect(a);
    const b1 = await connect(b);
    expect(await a1.next((f) => f.type === 'presence' && f.data.user_id === b.id)).toEqual({
      type: 'presence',
      data: { user_id: b.id, online: true, last_seen: null },
    });
    expect((await api(t, a, 'GET', `/api/v1/chat/presence/${b.id}`)).body).toEqual({ user_id: b.id, online: true, last_seen: null });

    // A second device changes nothing; closing one of two keeps b online.
    const b2 = await connect(b);
    b1.close();
    await b1.closed();
    await a1.none((f) => f.type === 'presence' && f.data.user_id === b.id);
    const before = Math.floor(Date.now() / 1000);
    b2.close();
    const offline = await a1.next((f) => f.type === 'presence' && f.data.user_id === b.id);
    expect(offline.data).toEqual({ user_id: b.id, online: false, last_seen: expect.any(Number) });
    expect(Number.isInteger(offline.data.last_seen)).toBe(true);
    expect(offline.data.last_seen).toBeGreaterThanOrEqual(before);
    expect(offline.data.last_seen).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    const rest = await api(t, a, 'GET', `/api/v1/chat/presence/${b.id}`);
    expect(rest.body).toEqual({ user_id: b.id, online: false, last_seen: offline.data.last_seen });
    // A socket is never told about its own user.
    expect(a1.frames.some((f) => f.type === 'presence' && f.data.user_id === a.id)).toBe(false);
  });

  it('does not announce presence to users who share no conversation', async () => {
    const { a } = await pair();
    const stranger = await registerUser(t);
    const a1 = await connect(a);
    const s1 = await connect(stranger);
    s1.close();
    await a1.none((f) => f.type === 'presence' && f.data.user_id === stranger.id, 400);
  });

  it('moves the read cursor on read: unread_count drops to 0 in the conversations list', async () => {
    const { a, b, chatId } = await pair();
    await t.server.core.sendMessage(a.id, { chatId: Number(chatId), text: 'second' });
    const unread = async () => {
      const list = await api(t, b, 'GET', '/api/v1/chat/conversations');
      return list.body.conversations.find((c: any) => c.id === chatId).unread_count;
    };
    expect(await unread()).toBe(2);
    const b1 = await connect(b);
    b1.send({ type: 'read', data: { conversation_id: chatId } });
    await waitFor(async () => (await unread()) === 0, 5000, 'unread_count 0');
    await b1.none((f) => f.type === 'error');
  });

  it('answers every bad frame with an error event and keeps the socket open', async () => {
    const { a, chatId } = await pair();
    const other = await pair();
    const a1 = await connect(a);
    const long = 'x'.repeat(51);
    const cases: [unknown, RegExp][] = [
      ['not json', /Invalid JSON/],
      ['[1,2]', /JSON object/],
      ['42', /JSON object/],
      [{ data: { conversation_id: chatId, body: 'x' } }, /type must be a string/],
      [{ type: 'shout', data: {} }, /Unknown event type: shout/],
      [{ type: 'message' }, /data must be an object/],
      [{ type: 'message', data: 'hello' }, /data must be an object/],
      [{ type: 'message', data: { body: 'x' } }, /conversation_id is required/],
      [{ type: 'message', data: { conversation_id: 'c1', body: 'x' } }, /conversation_id must be a positive integer/],
      [{ type: 'message', data: { conversation_id: { id: 1 }, body: 'x' } }, /conversation_id must be a positive integer/],
      [{ type: 'message', data: { conversation_id: chatId } }, /body is required/],
      [{ type: 'message', data: { conversation_id: chatId, body: 7 } }, /body must be a string/],
      [{ type: 'message', data: { conversation_id: chatId, body: '   ' } }, /cannot be empty/],
      [{ type: 'message', data: { conversation_id: chatId, body: long } }, /exceeds 50 characters/],
      [{ type: 'message', data: { conversation_id: other.chatId, body: 'intrusion' } }, /not a member/],
      [{ type: 'message', data: { conversation_id: '999999', body: 'x' } }, /not found/i],
      [{ type: 'typing', data: { conversation_id: chatId, is_typing: 'yes' } }, /is_typing must be a boolean/],
      [{ type: 'typing', data: { conversation_id: chatId } }, /is_typing must be a boolean/],
      [{ type: 'typing', data: { conversation_id: other.chatId, is_typing: true } }, /not a member/],
      [{ type: 'read', data: {} }, /conversation_id is required/],
      [{ type: 'read', data: { conversation_id: other.chatId } }, /not a member/],
    ];
    for (const [frame, pattern] of cases) {
      a1.send(frame);
      const err = await a1.next((f) => f.type === 'error');
      expect(err).toEqual({ type: 'error', data: { error: expect.any(String) } });
      expect(err.data.error, JSON.stringify(frame)).toMatch(pattern);
    }
    expect(a1.closeCode).toBeNull();
    // Nothing leaked into the other conversation, and the socket still works.
    const otherHistory = await api(t, other.a, 'GET', `/api/v1/chat/conversations/${other.chatId}/messages`);
    expect(otherHistory.body.messages.map((m: any) => m.body)).toEqual(['first']);
    a1.send({ type: 'message', data: { conversation_id: chatId, body: 'still alive' } });
    await a1.next(isMessage('still alive'));
  });

  it('serves group conversations and stops serving a member as soon as it is removed', async () => {
    const [owner, m1, m2] = [await registerUser(t), await registerUser(t), await registerUser(t)];
    const group = await t.server.core.createGroup(owner.id, { name: 'G', memberIds: [m1.id, m2.id] });
    const chatId = String(group.id);
    const [so, s1, s2] = [await connect(owner), await connect(m1), await connect(m2)];
    so.send({ type: 'typing', data: { conversation_id: chatId, is_typing: true } });
    await Promise.all([s1, s2].map((s) => s.next((f) => f.type === 'typing' && f.data.user_id === owner.id)));
    s2.send({ type: 'message', data: { conversation_id: chatId, body: 'hi group' } });
    await Promise.all([so, s1, s2].map((s) => s.next(isMessage('hi group'))));

    await t.server.core.removeMembers(owner.id, group.id, [m2.id]);
    so.send({ type: 'message', data: { conversation_id: chatId, body: 'after removal' } });
    await s1.next(isMessage('after removal'));
    await s2.none(isMessage('after removal'));
    s2.send({ type: 'message', data: { conversation_id: chatId, body: 'let me in' } });
    expect((await s2.next((f) => f.type === 'error')).data.error).toMatch(/not a member/);
    expect((await api(t, m2, 'GET', `/api/v1/chat/conversations/${chatId}/messages`)).status).toBe(403);
  });

  it('accepts JSON in a binary frame, answers other binary frames with an error event, closes with 1007 on text that is not UTF-8', async () => {
    const { a, chatId } = await pair();
    const a1 = await connect(a);
    a1.ws.send(Buffer.from(JSON.stringify({ type: 'message', data: { conversation_id: chatId, body: 'binary' } })), { binary: true });
    await a1.next(isMessage('binary'));
    // Issue 16.3: these bytes used to get no answer at all.
    a1.ws.send(Buffer.from([0x01, 0x02, 0x03, 0x00, 0xff]), { binary: true });
    const error = await a1.next((f) => f.type === 'error');
    expect(error).toEqual({ type: 'error', data: { error: 'Invalid JSON' } });
    a1.send({ type: 'message', data: { conversation_id: chatId, body: 'still open' } });
    await a1.next(isMessage('still open'));
    a1.ws.send(Buffer.from([0xff, 0xfe, 0x7b]), { binary: false });
    expect((await a1.closed()).code).toBe(1007);
  });

  it('closes with 1009 on a frame over the size limit', async () => {
    const { a, chatId } = await pair();
    const a1 = await connect(a);
    a1.send({ type: 'message', data: { conversation_id: chatId, body: 'y'.repeat(8192) } });
    expect((await a1.closed()).code).toBe(1009);
  });

  it('refuses an upgrade without a valid token with HTTP 401', async () => {
    const refused = async (url: string, token?: string) => {
      const err = await JsonSocket.open(url, token ? { token } : {}).then(
        () => null,
        (e: { status?: number }) => e,
      );
      return err?.status;
    };
    const sessionsBefore = t.server.registry.size;
    expect(await refused(`${t.wsUrl}/api/v1/ws`)).toBe(401);
    expect(await refused(`${t.wsUrl}/api/v1/ws`, 'garbage')).toBe(401);
    expect(await refused(`${t.wsUrl}/api/v1/ws`, await tokenFor('exp-user', {}, { expiresIn: '-10s' }))).toBe(401);
    expect(await refused(`${t.wsUrl}/api/v1/ws?token=garbage`)).toBe(401);
    expect(await refused(`${t.wsUrl}/api/v1/ws?access_token=`)).toBe(401);
    expect(t.server.registry.size).toBeLessThanOrEqual(sessionsBefore);
    expect(t.server.registry.sessionsOf('exp-user').size).toBe(0);
  });

  it('authenticates with ?token= or ?access_token= on the URL and no headers at all', async () => {
    const { a, b, chatId } = await pair();
    for (const param of ['token', 'access_token']) {
      // A raw `ws` client with no headers option, as a browser would connect.
      const raw = new WebSocket(`${t.wsUrl}/api/v1/ws?${param}=${encodeURIComponent(b.token)}`);
      const frames: any[] = [];
      raw.on('message', (d) => frames.push(JSON.parse(d.toString())));
      await new Promise<void>((resolve, reject) => {
        raw.once('open', () => resolve());
        raw.once('error', reject);
      });
      const body = `query ${param}`;
      await api(t, a, 'POST', `/api/v1/chat/direct/${b.id}/send`, { body });
      await waitFor(() => frames.find((f) => f.type === 'message' && f.data.body === body), 5000, 'message');
      expect(frames.find((f) => f.type === 'message' && f.data.body === body).data.conversation_id).toBe(chatId);
      raw.close();
    }
  });

  it('works for users from an external identity provider with opaque string ids', async () => {
    const tokA = await tokenFor('ext|alice', { preferred_username: 'ext-alice' });
    const tokB = await tokenFor('ext|bob', { preferred_username: 'ext-bob' });
    const a = { id: 'ext|alice', token: tokA, username: 'ext-alice' };
    const b = { id: 'ext|bob', token: tokB, username: 'ext-bob' };
    const b1 = await connect(b); // provisions b
    const sent = await api(t, a, 'POST', `/api/v1/chat/direct/${encodeURIComponent(b.id)}/send`, { body: 'opaque ids' });
    expect(sent.status).toBe(200);
    const got = await b1.next(isMessage('opaque ids'));
    expect(got.data.sender_id).toBe('ext|alice');
  });
});
