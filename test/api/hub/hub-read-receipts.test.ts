import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';
import { JsonSocket } from '../../support/ws-client.js';

/**
 * The `read` server event (an addition to the seed, for the web client's ✓✓): whenever a member
 * moves its read cursor, through any API, every member's hub sockets get
 * `{type:"read", data:{conversation_id, user_id, read_seq}}`.
 */
describe.each(backends)('hub read receipts on %s', (backend) => {
  let t: TestServer;
  const open: JsonSocket[] = [];
  beforeAll(async () => {
    t = await startServer(backend);
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
  const isRead = (f: any) => f.type === 'read';

  it('tells every member, the reader\'s other devices included, when a member reads over the socket', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const sent = await api(t, a, 'POST', `/api/v1/chat/direct/${b.id}/send`, { body: 'one' });
    const chatId = sent.body.message.conversation_id as string;
    await api(t, a, 'POST', `/api/v1/chat/direct/${b.id}/send`, { body: 'two' });
    const a1 = await connect(a);
    const b1 = await connect(b);
    const b2 = await connect(b);

    b1.send({ type: 'read', data: { conversation_id: chatId } });
    const expected = { type: 'read', data: { conversation_id: chatId, user_id: b.id, read_seq: 2 } };
    for (const s of [a1, b1, b2]) expect(await s.next(isRead)).toEqual(expected);
  });

  it('announces reads made through REST (stomp and hub routes) too, and never to non-members', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const outsider = await registerUser(t);
    const chat = await api(t, a, 'POST', `/api/chats/personal/${b.id}`);
    const chatId = chat.body.id as string;
    await api(t, a, 'POST', `/api/chats/${chatId}/messages`, { content: 'hello' });
    const a1 = await connect(a);
    const o1 = await connect(outsider);

    expect((await api(t, b, 'POST', `/api/chats/${chatId}/messages/read`)).status).toBe(204);
    expect(await a1.next(isRead)).toEqual({ type: 'read', data: { conversation_id: chatId, user_id: b.id, read_seq: 1 } });

    await api(t, a, 'POST', `/api/chats/${chatId}/messages`, { content: 'again' });
    expect((await api(t, b, 'POST', `/api/v1/chat/conversations/${chatId}/read`)).status).toBe(204);
    expect(await a1.next(isRead)).toEqual({ type: 'read', data: { conversation_id: chatId, user_id: b.id, read_seq: 2 } });
    await o1.none(isRead);
  });
});
