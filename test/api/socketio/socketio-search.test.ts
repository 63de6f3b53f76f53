import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';
import { connect, type TestSocket } from './socketio-client.js';

/** `search_messages` through socket.io-client with an acknowledgement. */
describe.each(backends)('socketio search_messages on %s', (backend) => {
  let t: TestServer;
  let me: TestUser;
  let outsider: TestUser;
  let chat: number;
  let socket: TestSocket;
  let outsiderSocket: TestSocket;
  beforeAll(async () => {
    t = await startServer(backend, { coreOverrides: { maxPageSize: 3 } });
    [me, outsider] = [await registerUser(t), await registerUser(t)];
    chat = (await t.server.core.createGroup(me.id, { name: 'g', memberIds: [] })).id;
    for (const text of ['Скидка на кофе', 'coffee discount today', 'кофе кофе кофе', 'кофе', 'кофе', 'tea']) await t.server.core.sendMessage(me.id, { chatId: chat, text });
    socket = await connect(t, me.token);
    outsiderSocket = await connect(t, outsider.token);
  });
  afterAll(async () => {
    socket?.close();
    outsiderSocket?.close();
    await t.close();
  });

  it('acks {success, messages} in the seed message shape, best match first, capped at the largest page', async () => {
    const ack = await socket.call('search_messages', { q: 'КОФЕ' });
    expect(ack.success).toBe(true);
    expect(ack.messages).toHaveLength(3);
    const [best] = ack.messages;
    expect(best).toEqual({
      id: expect.any(String),
      chatId: String(chat),
      text: 'кофе кофе кофе',
      sender: me.id,
      createdAt: expect.any(String),
      user: { id: me.id, email: `${me.username}@example.com`, username: me.username },
    });
    const next = await socket.call('search_messages', { q: 'кофе', limit: 3, offset: 3 });
    expect(next.messages.map((m: any) => m.text)).toEqual(['Скидка на кофе']);
    expect((await socket.call('search_messages', { q: 'coffee' })).messages.map((m: any) => m.text)).toEqual(['coffee discount today']);
  });

  it('shows an outsider nothing of chats it is not in', async () => {
    expect(await outsiderSocket.call('search_messages', { q: 'кофе' })).toEqual({ success: true, messages: [] });
  });

  it('refuses a missing, empty, non-string or over-long q with a bad_request ack', async () => {
    for (const payload of [{}, { q: '' }, { q: '   ' }, { q: 5 }, { q: 'x'.repeat(201) }, { q: 'x', limit: -1 }, 'кофе', null]) {
      const ack = await socket.call('search_messages', payload);
      expect(ack, JSON.stringify(payload)).toEqual({ success: false, error: expect.any(String), code: 'bad_request' });
    }
  });
});
