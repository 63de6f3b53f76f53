import { Writable } from 'node:stream';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/app/create-logger.js';
import { hashPassword, verifyPassword } from '../../src/identity/password-hash.js';
import { connect as socketIoConnect } from '../api/socketio/socketio-client.js';
import { StompTestClient } from '../api/stomp/stomp-clients.js';
import { backends } from '../support/backends.js';
import { api, registerUser, startServer, TEST_SECRET, type TestServer, type TestUser } from '../support/test-server.js';
import { waitFor } from '../support/wait.js';
import { JsonSocket } from '../support/ws-client.js';

/** Every line the server logs, at debug level (request lines included). */
class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** The parts of a JWT that must never be logged: the whole token, its payload and its signature. */
function secretParts(token: string): string[] {
  const [, payload, signature] = token.split('.');
  return [token, payload ?? '', signature ?? ''].filter((s) => s.length >= 16);
}

describe.each(backends)('secrets on %s', (backend) => {
  let t: TestServer;
  const logs = new Capture();
  beforeAll(async () => {
    t = await startServer(backend, { env: { LOG_LEVEL: 'debug' }, logger: createLogger('debug', logs) });
  });
  afterAll(async () => t.close());

  it('no token or password reaches the logs during a session of every dialect, ?token= included', async () => {
    const password = 'correct horse battery';
    const alice = await registerUser(t);
    const bob = await registerUser(t);
    const login = await api(t, null, 'POST', '/auth/login', { username: alice.username, password });
    expect(login.status).toBe(200);
    const tokens = [alice.token, bob.token, login.body.accessToken as string];
    const chat = await t.server.core.createGroup(alice.id, { name: 'secrets', memberIds: [bob.id] });
    const forged = `${alice.token.slice(0, -6)}AAAAAA`;
    tokens.push(forged);

    // hub: REST with the header and ?token=, the socket with ?token=, a refused socket with a forged one.
    expect((await api(t, alice, 'GET', '/api/v1/chat/conversations')).status).toBe(200);
    expect((await fetch(`${t.url}/api/v1/chat/conversations?token=${alice.token}`)).status).toBe(200);
    const hub = await JsonSocket.open(`${t.wsUrl}/api/v1/ws?token=${alice.token}`);
    hub.send({ type: 'message', data: { conversation_id: String(chat.id), body: 'hub' } });
    await hub.next((f) => f.type === 'message');
    await expect(JsonSocket.open(`${t.wsUrl}/api/v1/ws?token=${forged}`)).rejects.toMatchObject({ status: 401 });
    // rooms: REST and a chat socket with ?access_token=.
    expect((await fetch(`${t.url}/api/v1/chats?access_token=${bob.token}`)).status).toBe(200);
    const rooms = await JsonSocket.open(`${t.wsUrl}/api/v1/group/${chat.id}?access_token=${bob.token}`);
    await rooms.next((f) => f.type === 'history');
    rooms.send({ type: 'message', text: 'rooms' });
    await rooms.next((f) => f.type === 'message' && f.text === 'rooms');
    // channels: ?token=, and a refused one.
    const channels = await JsonSocket.open(`${t.wsUrl}/ws/chat/${chat.id}/?token=${alice.token}`);
    await channels.next((f) => f.type === 'connection_established');
    const refused = await JsonSocket.open(`${t.wsUrl}/ws/chat/${chat.id}/?token=${forged}`).catch(() => null);
    if (refused) await refused.closed();
    // STOMP over WebSocket (CONNECT header), over SockJS (?token=), and REST.
    const stomp = await StompTestClient.connect(t, alice.token);
    await stomp.sendWithReceipt(`/app/chat/${chat.id}/sendMessage`, { content: 'stomp' });
    const sockjs = await StompTestClient.connect(t, null, { sockjs: true, transport: 'xhr-streaming', query: `?token=${bob.token}` });
    await sockjs.subscribe(`/topic/chat/${chat.id}`);
    expect((await api(t, bob, 'GET', '/api/chats')).status).toBe(200);
    // Socket.IO: auth.token, and ?token= on a polling transport.
    const io = await socketIoConnect(t, alice.token);
    expect((await io.call('send_message', { chatId: String(chat.id), text: 'io' })).success).toBe(true);
    const ioQuery = await socketIoConnect(t, '', { auth: {}, query: { token: bob.token }, transports: ['polling'] });
    expect((await ioQuery.call('get_my_chats')).success).toBe(true);

    for (const s of [hub, rooms, channels]) s.close();
    io.close();
    ioQuery.close();
    await stomp.client.deactivate();
    await sockjs.client.deactivate();
    await waitFor(() => t.server.registry.size === 0, 10_000, 'every session closed');

    // The capture is real: debug request lines and connection lines are there …
    expect(logs.text).toContain('connection opened');
    expect(logs.text).toContain('[redacted]');
    expect(logs.text).toMatch(/"url":"\/api\/v1\/chat\/conversations\?token=\[redacted\]"/);
    // … and no token (nor its payload or signature) and no password is in any of them.
    for (const token of tokens) for (const part of secretParts(token)) expect(logs.text).not.toContain(part);
    expect(logs.text).not.toContain(password);
  });

  it('passwords are stored as salted scrypt hashes and compared in constant time', async () => {
    const a = await hashPassword('hunter2-hunter2');
    const b = await hashPassword('hunter2-hunter2');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('hunter2-hunter2', a)).toBe(true);
    expect(await verifyPassword('hunter2-hunter3', a)).toBe(false);
    expect(await verifyPassword('hunter2-hunter2', 'plain$text')).toBe(false);
    // The account row holds the hash, never the password.
    const user = await registerUser(t);
    const account = await t.server.store.findAccount({ username: user.username });
    expect(account?.passwordHash).toMatch(/^scrypt\$/);
    expect(account?.passwordHash).not.toContain('correct horse battery');
  });

  it('the algorithm is pinned on every connection path: alg none and HS512 with the right secret are refused', async () => {
    const none = new UnsecuredJWT({}).setSubject('u-none').setIssuedAt().setExpirationTime('1h').encode();
    const hs512 = await new SignJWT({}).setProtectedHeader({ alg: 'HS512' }).setSubject('u-512').setExpirationTime('1h').sign(new TextEncoder().encode(TEST_SECRET));
    for (const token of [none, hs512]) {
      await expect(JsonSocket.open(`${t.wsUrl}/api/v1/ws?token=${token}`)).rejects.toMatchObject({ status: 401 });
      expect((await fetch(`${t.url}/api/chats`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
      await expect(StompTestClient.connect(t, token)).rejects.toThrow();
      await expect(socketIoConnect(t, token)).rejects.toThrow();
    }
  });

  it('uploads are served with the sniffed Content-Type and nosniff, whatever their name claimed', async () => {
    const owner: TestUser = await registerUser(t);
    // A GIF: the stored name and the served type follow the bytes.
    const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
    const chat = await t.server.core.createGroup(owner.id, { name: 'pic', memberIds: [], avatar: gif });
    expect(chat.avatarUrl).toMatch(/\.gif$/);
    const res = await fetch(`${t.url}${chat.avatarUrl}`);
    expect(res.headers.get('content-type')).toBe('image/gif');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    await expect(t.server.core.createGroup(owner.id, { name: 'html', memberIds: [], avatar: Buffer.from('<html><script>alert(1)</script>') })).rejects.toMatchObject({
      code: 'unsupported_media_type',
    });
  });
});
