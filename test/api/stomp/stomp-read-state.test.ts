import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, type TestServer } from '../../support/test-server.js';

/**
 * Additions to the `stomp` REST shapes for clients that show read state (the web client):
 * messages carry their per-chat `seq`, chat participants their `readSeq` cursor.
 */
describe.each(backends)('stomp REST read state on %s', (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(backend);
  });
  afterAll(async () => t.close());

  it('renders seq on messages and each participant\'s readSeq on chats', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const chatId = (await api(t, a, 'POST', `/api/chats/personal/${b.id}`)).body.id as string;
    const first = await api(t, a, 'POST', `/api/chats/${chatId}/messages`, { content: 'one' });
    expect(first.body.seq).toBe(1);
    await api(t, a, 'POST', `/api/chats/${chatId}/messages`, { content: 'two' });
    const history = await api(t, b, 'GET', `/api/chats/${chatId}/messages`);
    expect(history.body.map((m: { seq: number }) => m.seq)).toEqual([1, 2]);

    const cursor = async (viewer: typeof a, userId: string): Promise<number> => {
      const chat = await api(t, viewer, 'GET', `/api/chats/${chatId}`);
      return chat.body.participants.find((p: { userId: string }) => p.userId === userId).readSeq;
    };
    expect(await cursor(a, b.id)).toBe(0);
    await api(t, b, 'POST', `/api/chats/${chatId}/messages/read`);
    expect(await cursor(a, b.id)).toBe(2);
    const listed = (await api(t, a, 'GET', '/api/chats')).body.find((c: { id: string }) => c.id === chatId);
    expect(listed.participants).toEqual(expect.arrayContaining([{ userId: b.id, role: 'member', readSeq: 2 }, { userId: a.id, role: 'member', readSeq: 0 }]));
  });
});
