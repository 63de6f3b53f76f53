import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';
import { StompTestClient } from './stomp-clients.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Issue 18 on the stomp wire: REST PUT/DELETE, STOMP editMessage/deleteMessage, topic events, catch-up. */
describe.each(backends)('stomp edit and delete on %s', (backend) => {
  let t: TestServer;
  const clients: StompTestClient[] = [];

  beforeAll(async () => {
    t = await startServer(backend, { env: { MAX_MESSAGE_LENGTH: '20' } });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await t.close();
  });

  const connect = async (user: TestUser): Promise<StompTestClient> => {
    const c = await StompTestClient.connect(t, user.token);
    clients.push(c);
    return c;
  };
  const group = async () => {
    const [owner, member] = [await registerUser(t), await registerUser(t)];
    const chat = await api(t, owner, 'POST', '/api/chats', { type: 'group', name: 'G', participantIds: [member.id] });
    return { owner, member, chatId: chat.body.id as string };
  };
  const send = async (user: TestUser, chatId: string, content: string) => (await api(t, user, 'POST', `/api/chats/${chatId}/messages`, { content })).body;

  it('edits over REST: 200 MessageResponse with editedAt, MESSAGE_UPDATED on /topic/chat/{id}', async () => {
    const { owner, member, chatId } = await group();
    const sub = await connect(owner);
    await sub.subscribe(`/topic/chat/${chatId}`);
    const sent = await send(member, chatId, 'helo');
    const res = await api(t, member, 'PUT', `/api/chats/${chatId}/messages/${sent.id}`, { content: 'hello' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: sent.id,
      conversationId: chatId,
      senderId: member.id,
      content: 'hello',
      createdAt: sent.createdAt,
      type: 'TEXT',
      replyToMessageId: null,
      seq: 1,
      editedAt: expect.stringMatching(ISO),
      deletedAt: null,
      changeSeq: 1,
    });
    const event = await sub.next(`/topic/chat/${chatId}`, (b) => b.type === 'MESSAGE_UPDATED');
    expect(event).toEqual({ type: 'MESSAGE_UPDATED', chatId: Number(chatId), timestamp: expect.any(Number), payload: res.body });
    // Errors in the REST shape.
    expect((await api(t, owner, 'PUT', `/api/chats/${chatId}/messages/${sent.id}`, { content: 'mine' })).status).toBe(403);
    expect((await api(t, member, 'PUT', `/api/chats/${chatId}/messages/${sent.id}`, { content: '' })).status).toBe(400);
    expect((await api(t, member, 'PUT', `/api/chats/${chatId}/messages/99999999`, { content: 'x' })).body).toEqual({ error: 'Message not found' });
  });

  it('deletes over REST: 204, MESSAGE_DELETED {messageId, conversationId}, a tombstone in history; the owner moderates', async () => {
    const { owner, member, chatId } = await group();
    const sub = await connect(member);
    await sub.subscribe(`/topic/chat/${chatId}`);
    const mine = await send(owner, chatId, 'by owner');
    const theirs = await send(member, chatId, 'by member');
    expect((await api(t, member, 'DELETE', `/api/chats/${chatId}/messages/${mine.id}`)).status).toBe(403);
    expect((await api(t, owner, 'DELETE', `/api/chats/${chatId}/messages/${theirs.id}`)).status).toBe(204);
    const event = await sub.next(`/topic/chat/${chatId}`, (b) => b.type === 'MESSAGE_DELETED');
    expect(event).toEqual({ type: 'MESSAGE_DELETED', chatId: Number(chatId), timestamp: expect.any(Number), payload: { messageId: theirs.id, conversationId: chatId, changeSeq: 1 } });
    const history = await api(t, member, 'GET', `/api/chats/${chatId}/messages`);
    expect(history.body.map((m: any) => [m.id, m.content, m.deletedAt === null])).toEqual([
      [mine.id, 'by owner', true],
      [theirs.id, '', false],
    ]);
    expect((await api(t, owner, 'DELETE', `/api/chats/${chatId}/messages/${theirs.id}`)).status).toBe(404);
  });

  it('edits and deletes over STOMP SEND /app/chat/{id}/editMessage and /deleteMessage', async () => {
    const { owner, member, chatId } = await group();
    const [a, b] = [await connect(owner), await connect(member)];
    await a.subscribe(`/topic/chat/${chatId}`);
    await b.subscribe(`/topic/chat/${chatId}`);
    const sent = await send(owner, chatId, 'typo');
    await a.sendWithReceipt(`/app/chat/${chatId}/editMessage`, { messageId: Number(sent.id), content: 'fixed' });
    for (const c of [a, b]) {
      expect((await c.next(`/topic/chat/${chatId}`, (x) => x.type === 'MESSAGE_UPDATED')).payload).toMatchObject({ id: sent.id, content: 'fixed', editedAt: expect.stringMatching(ISO) });
    }
    await a.sendWithReceipt(`/app/chat/${chatId}/deleteMessage`, { messageId: sent.id });
    for (const c of [a, b]) {
      expect((await c.next(`/topic/chat/${chatId}`, (x) => x.type === 'MESSAGE_DELETED')).payload).toEqual({ messageId: sent.id, conversationId: chatId, changeSeq: 2 });
    }
    // Someone else's message: an ERROR frame (STOMP closes on errors, as Spring does).
    const other = await send(member, chatId, 'not yours');
    a.send(`/app/chat/${chatId}/editMessage`, { messageId: other.id, content: 'hijack' });
    expect((await a.error()).headers['message']).toBe('Access denied');
    expect((await api(t, member, 'GET', `/api/chats/${chatId}/messages`)).body.at(-1).content).toBe('not yours');
  });

  it('catches up through GET /api/chats/{id}/changes?after=', async () => {
    const { owner, member, chatId } = await group();
    const m1 = await send(owner, chatId, 'one');
    const m2 = await send(owner, chatId, 'two');
    await api(t, owner, 'PUT', `/api/chats/${chatId}/messages/${m1.id}`, { content: 'uno' });
    await api(t, owner, 'DELETE', `/api/chats/${chatId}/messages/${m2.id}`);
    const page = await api(t, member, 'GET', `/api/chats/${chatId}/changes?after=0`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ chatId: Number(chatId), cursor: 2 });
    expect(page.body.changes.map((m: any) => [m.id, m.content, m.changeSeq])).toEqual([
      [m1.id, 'uno', 1],
      [m2.id, '', 2],
    ]);
    expect((await api(t, member, 'GET', `/api/chats/${chatId}/changes?after=2`)).body).toEqual({ chatId: Number(chatId), changes: [], cursor: 2 });
    expect((await api(t, await registerUser(t), 'GET', `/api/chats/${chatId}/changes`)).status).toBe(403);
  });
});
