import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { registerUser, startServer, tokenFor, type TestServer, type TestUser } from '../../support/test-server.js';
import { waitFor } from '../../support/wait.js';
import { connect, openSocket, refusal, type TestSocket } from './socketio-client.js';

describe.each(backends)('socketio connection on %s', (backend) => {
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let chatId: number;
  const open: TestSocket[] = [];
  const track = (s: TestSocket): TestSocket => (open.push(s), s);

  beforeAll(async () => {
    t = await startServer(backend);
    alice = await registerUser(t);
    bob = await registerUser(t);
    chatId = (await t.server.core.createGroup(alice.id, { name: 'transports', memberIds: [bob.id] })).id;
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await t.close();
  });

  /** Proves a connection is authenticated as `user` and fully working: join, send, receive. */
  async function roundTrip(s: TestSocket, user: TestUser, text: string): Promise<void> {
    expect(await s.call('join_chat', { chatId })).toMatchObject({ success: true });
    const ack = await s.call('send_message', { chatId, text });
    expect(ack).toMatchObject({ success: true, message: { text, sender: user.id } });
    const pushed = await s.nextMessage((m) => m.text === text);
    expect(pushed).toEqual(ack.message);
  }

  it('accepts auth.token with and without the Bearer prefix', async () => {
    await roundTrip(track(await connect(t, alice.token)), alice, 'plain token');
    await roundTrip(track(await connect(t, `Bearer ${alice.token}`)), alice, 'bearer token');
  });

  it('accepts the Authorization header (extraHeaders) and ?token= in the query', async () => {
    const byHeader = track(await connect(t, '', { auth: {}, extraHeaders: { Authorization: `Bearer ${bob.token}` } }));
    await roundTrip(byHeader, bob, 'header token');
    const byQuery = track(await connect(t, '', { auth: {}, query: { token: bob.token } }));
    await roundTrip(byQuery, bob, 'query token');
  });

  it('refuses a missing, malformed, forged or expired token with connect_error Unauthorized', async () => {
    const forged = await tokenFor(alice.id, {}, { secret: 'another-secret-that-is-long-enough-for-hs256-xx' });
    const expired = await tokenFor(alice.id, {}, { expiresIn: '1 hour ago' });
    for (const options of [
      { transports: ['websocket'] },
      { auth: { token: 'not-a-jwt' }, transports: ['websocket'] },
      { auth: { token: 42 }, transports: ['websocket'] },
      { auth: { token: forged }, transports: ['websocket'] },
      { auth: { token: expired }, transports: ['polling'] },
      { extraHeaders: { Authorization: 'Bearer nope' }, transports: ['polling'] },
    ] as const) {
      const err = await refusal(t, options as never);
      expect(err?.message, JSON.stringify(options)).toBe('Unauthorized');
    }
  });

  it('lets an external identity provider user in and renders its profile', async () => {
    const token = await tokenFor('kc-user-7', { preferred_username: 'kc7', email: 'kc7@example.com' });
    const s = track(await connect(t, token));
    const mine = await s.call('get_my_chats');
    expect(mine).toEqual({ success: true, chats: [] });
  });

  it('works over HTTP long-polling only', async () => {
    const s = track(await connect(t, alice.token, { transports: ['polling'] }));
    expect(s.socket.io.engine.transport.name).toBe('polling');
    await roundTrip(s, alice, 'over polling');
    // Delivery from another path while the client is between polls.
    const other = await t.server.core.sendMessage(bob.id, { chatId, text: 'pushed to a polling client' });
    const pushed = await s.nextMessage((m) => m.id === String(other.message.id));
    expect(pushed).toMatchObject({ text: 'pushed to a polling client', sender: bob.id });
    expect(s.socket.io.engine.transport.name).toBe('polling');
  });

  it('upgrades from long-polling to websocket and keeps the session', async () => {
    const s = track(await connect(t, alice.token, { transports: ['polling', 'websocket'] }));
    await waitFor(() => s.socket.io.engine.transport.name === 'websocket', 5000, 'upgrade');
    await roundTrip(s, alice, 'after upgrade');
  });

  it('counts a socket for presence while it is connected', async () => {
    const carol = await registerUser(t);
    const s = await connect(t, carol.token);
    await waitFor(async () => (await t.server.core.presenceOf(carol.id)).online, 5000, 'online');
    s.close();
    await waitFor(async () => !(await t.server.core.presenceOf(carol.id)).online, 5000, 'offline');
  });

  it('allows browser origins (CORS) on the polling handshake', async () => {
    const res = await fetch(`${t.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: 'https://app.example.com' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    await res.text();
  });

  it('leaves other paths to the rest of the server', async () => {
    const health = await fetch(`${t.url}/healthz`);
    expect(health.status).toBe(200);
    await health.text();
  });

  it('drops a client whose packet exceeds the frame limit and keeps serving others', async () => {
    const s = track(await connect(t, alice.token));
    const gone = new Promise<string>((resolve) => s.socket.once('disconnect', (reason) => resolve(reason)));
    s.socket.emit('send_message', { chatId, text: 'x'.repeat(t.server.config.maxFrameBytes + 10) });
    expect(await gone).toMatch(/close/);
    const again = track(await connect(t, alice.token));
    expect(await again.call('get_chat_messages', { chatId, limit: 1 })).toMatchObject({ success: true });
  });

  it('closes its sockets when the server shuts down', async () => {
    const own = await startServer(backend);
    try {
      const user = await registerUser(own);
      const s = await openSocket(own, { auth: { token: user.token }, transports: ['websocket'] });
      const gone = new Promise<string>((resolve) => s.once('disconnect', (reason) => resolve(reason)));
      await own.stop();
      expect(await gone).toBeTruthy();
      s.close();
    } finally {
      await own.close();
    }
  });
});
