import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { registerUser, startServer, type TestServer } from '../support/test-server.js';
import { JsonSocket } from '../support/ws-client.js';

describe.each(backends)('connection limits on %s', (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(backend, { env: { MAX_CONNECTIONS_PER_USER: '2', MAX_FRAME_BYTES: '2048' } });
  });
  afterAll(async () => t.close());

  it('closes a connection past MAX_CONNECTIONS_PER_USER with 1008, whatever the dialect', async () => {
    const user = await registerUser(t);
    const a = await JsonSocket.open(`${t.wsUrl}/api/v1/ws`, { token: user.token });
    const chat = await t.server.core.createGroup(user.id, { name: 'limits', memberIds: [] });
    const b = await JsonSocket.open(`${t.wsUrl}/ws/chat/${chat.id}/?token=${user.token}`);
    await b.next((f) => f.type === 'connection_established');
    const c = await JsonSocket.open(`${t.wsUrl}/api/v1/ws`, { token: user.token });
    expect((await c.closed()).code).toBe(1008);
    // Another user is not affected, and the first two still work.
    const other = await registerUser(t);
    const d = await JsonSocket.open(`${t.wsUrl}/api/v1/ws`, { token: other.token });
    b.send({ type: 'message', text: 'still here' });
    await a.next((f) => f.type === 'message' && f.data.body === 'still here');
    // Closing one frees a slot.
    a.close();
    await a.closed();
    const e = await JsonSocket.open(`${t.wsUrl}/api/v1/ws`, { token: user.token });
    e.send({ type: 'message', data: { conversation_id: String(chat.id), body: 'again' } });
    await e.next((f) => f.type === 'message' && f.data.body === 'again');
    for (const s of [b, d, e]) s.close();
  });

  it('closes a frame over MAX_FRAME_BYTES with 1009', async () => {
    const user = await registerUser(t);
    const s = await JsonSocket.open(`${t.wsUrl}/api/v1/ws`, { token: user.token });
    s.send({ type: 'message', data: { conversation_id: '1', body: 'x'.repeat(4096) } });
    expect((await s.closed()).code).toBe(1009);
  });
});
