import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect } from '../../../src/transports/dialect.js';
import { hubDialect } from '../../../src/transports/hub/hub-dialect.js';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, type TestServer } from '../../support/test-server.js';

/** Stand-in for `rooms`' parametric routes under the shared `/api/v1/chat/` prefix. */
const roomsLike: Dialect = {
  name: 'rooms',
  register(ctx) {
    ctx.app.get('/api/v1/chat/:id', async (request) => ({ rooms: (request.params as { id: string }).id }));
    ctx.app.post('/api/v1/chat/:id', async (request) => ({ rooms: (request.params as { id: string }).id }));
    ctx.app.get('/api/v1/chat/:id/info', async (request) => ({ info: (request.params as { id: string }).id }));
  },
};

describe.each(backends)('hub next to rooms-style /api/v1/chat/:id routes on %s', (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(backend, { dialects: [roomsLike, hubDialect] });
  });
  afterAll(async () => t.close());

  it('routes the static hub segments to hub and everything else to :id', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const sent = await api(t, a, 'POST', `/api/v1/chat/direct/${b.id}/send`, { body: 'hi' });
    expect(sent.status).toBe(200);
    const chatId = sent.body.message.conversation_id;
    expect((await api(t, a, 'GET', '/api/v1/chat/conversations')).body.conversations[0].id).toBe(chatId);
    expect((await api(t, a, 'GET', `/api/v1/chat/conversations/${chatId}/messages`)).body.messages).toHaveLength(1);
    expect((await api(t, a, 'GET', `/api/v1/chat/presence/${b.id}`)).body.user_id).toBe(b.id);
    expect((await api(t, a, 'GET', '/api/v1/chat/12')).body).toEqual({ rooms: '12' });
    expect((await api(t, a, 'POST', '/api/v1/chat/12')).body).toEqual({ rooms: '12' });
    expect((await api(t, a, 'GET', '/api/v1/chat/12/info')).body).toEqual({ info: '12' });
  });
});
