import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';
import { JsonSocket } from '../../support/ws-client.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Issue 18 on the hub wire: PATCH/DELETE, the socket events, history tombstones and catch-up. */
describe.each(backends)('hub edit and delete on %s', (backend) => {
  let t: TestServer;
  const open: JsonSocket[] = [];

  beforeAll(async () => {
    t = await startServer(backend, { env: { MAX_MESSAGE_LENGTH: '20' } });
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
  const pair = async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const res = await api(t, a, 'POST', `/api/v1/chat/direct/${b.id}/send`, { body: 'helo' });
    return { a, b, chatId: res.body.message.conversation_id as string, messageId: res.body.message.id as string };
  };
  const path = (chatId: string, messageId: string) => `/api/v1/chat/conversations/${chatId}/messages/${messageId}`;

  it('edits with PATCH: 200 with edited_at, message_updated to every socket of both users', async () => {
    const { a, b, chatId, messageId } = await pair();
    const [a1, a2, b1] = [await connect(a), await connect(a), await connect(b)];
    const res = await api(t, a, 'PATCH', path(chatId, messageId), { body: 'hello' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      message: {
        id: messageId,
        conversation_id: chatId,
        sender_id: a.id,
        body: 'hello',
        created_at: expect.stringMatching(ISO),
        seq: 1,
        edited_at: expect.stringMatching(ISO),
        deleted_at: null,
        change_seq: 1,
      },
    });
    for (const s of [a1, a2, b1]) {
      const f = await s.next((x) => x.type === 'message_updated');
      expect(f).toEqual({ type: 'message_updated', data: { conversation_id: chatId, id: messageId, body: 'hello', edited_at: expect.any(Number), change_seq: 1 } });
    }
    const history = await api(t, b, 'GET', `/api/v1/chat/conversations/${chatId}/messages`);
    expect(history.body.messages[0]).toMatchObject({ id: messageId, body: 'hello', edited_at: res.body.message.edited_at, deleted_at: null });
  });

  it('refuses bad edits in the hub error shape: 400 text rules, 403 someone else\'s, 404 unknown, 401 anonymous', async () => {
    const { a, b, chatId, messageId } = await pair();
    const outsider = await registerUser(t);
    expect((await api(t, a, 'PATCH', path(chatId, messageId), { body: '  ' })).status).toBe(400);
    const long = await api(t, a, 'PATCH', path(chatId, messageId), { body: 'x'.repeat(21) });
    expect(long).toMatchObject({ status: 400, body: { error: 'Message text exceeds 20 characters' } });
    expect((await api(t, a, 'PATCH', path(chatId, messageId), {})).status).toBe(400);
    expect(await api(t, b, 'PATCH', path(chatId, messageId), { body: 'mine now' })).toMatchObject({ status: 403, body: { error: expect.any(String) } });
    expect((await api(t, outsider, 'PATCH', path(chatId, messageId), { body: 'x' })).status).toBe(403);
    expect(await api(t, a, 'PATCH', path(chatId, '987654321'), { body: 'x' })).toMatchObject({ status: 404, body: { error: 'Message not found' } });
    expect((await api(t, a, 'PATCH', path(chatId, 'abc'), { body: 'x' })).status).toBe(400);
    expect((await api(t, null, 'PATCH', path(chatId, messageId), { body: 'x' })).status).toBe(401);
    const history = await api(t, a, 'GET', `/api/v1/chat/conversations/${chatId}/messages`);
    expect(history.body.messages[0]).toMatchObject({ body: 'helo', edited_at: null });
  });

  it('deletes with DELETE: 204, message_deleted live, a tombstone in history, 404 after', async () => {
    const { a, b, chatId, messageId } = await pair();
    const b1 = await connect(b);
    expect((await api(t, b, 'DELETE', path(chatId, messageId))).status).toBe(403);
    const res = await api(t, a, 'DELETE', path(chatId, messageId));
    expect(res.status).toBe(204);
    expect(await b1.next((x) => x.type === 'message_deleted')).toEqual({ type: 'message_deleted', data: { conversation_id: chatId, id: messageId, change_seq: 1 } });
    const history = await api(t, b, 'GET', `/api/v1/chat/conversations/${chatId}/messages`);
    expect(history.body.messages).toEqual([expect.objectContaining({ id: messageId, seq: 1, body: '', edited_at: null, deleted_at: expect.stringMatching(ISO) })]);
    expect((await api(t, a, 'DELETE', path(chatId, messageId))).status).toBe(404);
    expect((await api(t, a, 'PATCH', path(chatId, messageId), { body: 'back' })).status).toBe(404);
    // The conversation list's last message is the tombstone too.
    const list = await api(t, a, 'GET', '/api/v1/chat/conversations');
    expect(list.body.conversations[0].last_message).toMatchObject({ id: messageId, body: '' });
  });

  it('lets a client that was away catch up through /changes after its cursor', async () => {
    const { a, b, chatId, messageId } = await pair();
    const second = (await api(t, b, 'POST', `/api/v1/chat/direct/${a.id}/send`, { body: 'two' })).body.message.id as string;
    const start = await api(t, b, 'GET', `/api/v1/chat/conversations/${chatId}/changes`);
    expect(start.body).toEqual({ changes: [], cursor: 0 });
    // b goes away; meanwhile both messages change.
    await api(t, a, 'PATCH', path(chatId, messageId), { body: 'one' });
    await api(t, b, 'DELETE', path(chatId, second));
    await api(t, a, 'PATCH', path(chatId, messageId), { body: 'uno' });
    const page = await api(t, b, 'GET', `/api/v1/chat/conversations/${chatId}/changes?after=0`);
    expect(page.status).toBe(200);
    expect(page.body.changes.map((m: any) => [m.id, m.body, m.change_seq, m.deleted_at === null])).toEqual([
      [second, '', 2, false],
      [messageId, 'uno', 3, true],
    ]);
    expect(page.body.cursor).toBe(3);
    expect((await api(t, b, 'GET', `/api/v1/chat/conversations/${chatId}/changes?after=2&limit=1`)).body).toMatchObject({ changes: [{ id: messageId }], cursor: 3 });
    expect((await api(t, b, 'GET', `/api/v1/chat/conversations/${chatId}/changes?after=-1`)).status).toBe(400);
    const outsider = await registerUser(t);
    expect((await api(t, outsider, 'GET', `/api/v1/chat/conversations/${chatId}/changes`)).status).toBe(403);
  });
});
