import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/app/config.js';
import { connect as socketIoConnect } from '../api/socketio/socketio-client.js';
import { StompTestClient } from '../api/stomp/stomp-clients.js';
import { backends } from '../support/backends.js';
import { api, registerUser, startServer, type TestServer } from '../support/test-server.js';
import { waitFor } from '../support/wait.js';
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

describe.each(backends)('configurable limits on %s', (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(backend, {
      env: {
        WS_PING_INTERVAL_MS: '150',
        MAX_PAGE_CHATS: '3',
        RATE_LIMIT_CONNECTIONS: '2',
        RATE_LIMIT_WINDOW_S: '60',
        HANDSHAKE_TIMEOUT_MS: '400',
        HTTP_HEADERS_TIMEOUT_MS: '400',
        HTTP_REQUEST_TIMEOUT_MS: '2000',
      },
    });
  });
  afterAll(async () => t.close());

  it('WS_PING_INTERVAL_MS: a peer that stops answering pings is dropped; one that answers stays', async () => {
    const user = await registerUser(t);
    const mute = new WebSocket(`${t.wsUrl}/api/v1/ws`, { headers: { authorization: `Bearer ${user.token}` }, autoPong: false });
    const live = new WebSocket(`${t.wsUrl}/api/v1/ws`, { headers: { authorization: `Bearer ${user.token}` } });
    let pings = 0;
    mute.on('ping', () => pings++);
    const muteClosed = new Promise<number>((resolve) => mute.once('close', (code) => resolve(code)));
    await Promise.all([new Promise((r) => mute.once('open', r)), new Promise((r) => live.once('open', r))]);
    // Terminated without a close frame: the client sees an abnormal closure.
    expect(await muteClosed).toBe(1006);
    expect(pings).toBeGreaterThan(0);
    expect(live.readyState).toBe(WebSocket.OPEN);
    await waitFor(() => t.server.registry.sessionsOf(user.id).size === 1, 5000, 'mute session removed');
    live.close();
  });

  it('MAX_PAGE_CHATS caps every chat list (hub, rooms, STOMP, Socket.IO) instead of refusing', async () => {
    const user = await registerUser(t);
    for (let i = 0; i < 5; i++) await t.server.core.createGroup(user.id, { name: `g${i}`, memberIds: [] });
    const hub = await api(t, user, 'GET', '/api/v1/chat/conversations?limit=150');
    expect(hub.status).toBe(200);
    expect(hub.body.conversations).toHaveLength(3);
    const rooms = await api(t, user, 'GET', '/api/v1/chats');
    expect(rooms.status).toBe(200);
    expect(rooms.body.rooms).toHaveLength(3);
    const roomsLimited = await api(t, user, 'GET', '/api/v1/chats?limit=100');
    expect(roomsLimited.body.rooms).toHaveLength(3);
    const stomp = await api(t, user, 'GET', '/api/chats');
    expect(stomp.status).toBe(200);
    expect(stomp.body).toHaveLength(3);
    // The newest first: the cap keeps the most recently active chats.
    expect(stomp.body.map((c: { name: string }) => c.name)).toEqual(['g4', 'g3', 'g2']);
    const io = await socketIoConnect(t, user.token);
    const mine = await io.call('get_my_chats');
    expect(mine.chats).toHaveLength(3);
    io.close();
  });

  it('RATE_LIMIT_CONNECTIONS counts every dialect together and refuses past it in each dialect’s shape', async () => {
    const user = await registerUser(t);
    const chat = await t.server.core.createGroup(user.id, { name: 'rate', memberIds: [] });
    const hub = await JsonSocket.open(`${t.wsUrl}/api/v1/ws`, { token: user.token });
    const rooms = await JsonSocket.open(`${t.wsUrl}/api/v1/group/${chat.id}`, { token: user.token });
    await rooms.next((f) => f.type === 'history');
    hub.close();
    rooms.close();
    await waitFor(() => t.server.registry.sessionsOf(user.id).size === 0, 5000, 'sessions gone');
    // Closed or not, two attempts were used in this window: the third is refused, whatever the dialect.
    const hub2 = await JsonSocket.open(`${t.wsUrl}/api/v1/ws`, { token: user.token });
    expect((await hub2.closed()).code).toBe(1008);
    const channels = await JsonSocket.open(`${t.wsUrl}/ws/chat/${chat.id}/?token=${user.token}`);
    expect((await channels.closed()).code).toBe(1008);
    const rooms2 = await JsonSocket.open(`${t.wsUrl}/api/v1/main`, { token: user.token });
    expect((await rooms2.closed()).code).toBe(1008);
    await expect(StompTestClient.connect(t, user.token)).rejects.toThrow(/closed before CONNECTED/);
    const io = await socketIoConnect(t, user.token);
    await waitFor(() => !io.socket.connected, 5000, 'socket.io disconnected');
    io.close();
    // Another user is not affected.
    const other = await registerUser(t);
    const ok = await JsonSocket.open(`${t.wsUrl}/api/v1/ws`, { token: other.token });
    await ok.none((f) => true, 200);
    expect(ok.closeCode).toBeNull();
    ok.close();
  });

  it('HANDSHAKE_TIMEOUT_MS: STOMP without CONNECT and Socket.IO without its CONNECT packet are closed', async () => {
    const stomp = new WebSocket(`${t.wsUrl}/ws-chat`, ['v12.stomp']);
    stomp.on('error', () => {});
    const stompClosed = new Promise<number>((resolve) => stomp.once('close', (code) => resolve(code)));
    await new Promise((r) => stomp.once('open', r));
    expect(await stompClosed).not.toBe(1006);

    // engine.io opens (`0{…}`), then Socket.IO waits for `40` with the token: never sent here.
    const eio = new WebSocket(`${t.wsUrl}/socket.io/?EIO=4&transport=websocket`);
    eio.on('error', () => {});
    const opened: string[] = [];
    eio.on('message', (d) => opened.push(d.toString()));
    const eioClosed = new Promise<void>((resolve) => eio.once('close', () => resolve()));
    await new Promise((r) => eio.once('open', r));
    await eioClosed;
    expect(opened[0]?.startsWith('0')).toBe(true);
  });

  it('an HTTP request or upgrade that never finishes its headers is dropped (HTTP_HEADERS_TIMEOUT_MS)', async () => {
    const { port } = new URL(t.url);
    for (const path of ['/api/v1/ws', '/api/chats']) {
      const socket = connect(Number(port), '127.0.0.1');
      socket.on('error', () => {});
      let answer = '';
      socket.on('data', (d) => (answer += d.toString()));
      await new Promise((r) => socket.once('connect', r));
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n`);
      await new Promise((r) => socket.once('close', r));
      // Node answers 408 (or just closes); it never waits for the rest forever.
      expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
    }
  });
});

describe('limit settings are validated', () => {
  it('refuses bad values by name', () => {
    const base = { DATA_DIR: '/tmp/x' };
    for (const [name, value] of [
      ['WS_PING_INTERVAL_MS', '10'],
      ['MAX_PAGE_CHATS', '0'],
      ['RATE_LIMIT_CONNECTIONS', '-1'],
      ['HANDSHAKE_TIMEOUT_MS', 'soon'],
      ['MAX_BUFFERED_BYTES', '100'],
    ] as const) {
      expect(() => loadConfig({ ...base, [name]: value })).toThrow(new RegExp(`^${name}:`));
    }
    expect(() => loadConfig({ ...base, HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '1000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS/);
    const c = loadConfig(base);
    expect([c.wsPingIntervalMs, c.maxPageChats, c.rateLimitConnections, c.handshakeTimeoutMs]).toEqual([15_000, 200, 60, 10_000]);
  });
});

describe.each(backends)('a stuck authentication on %s', (backend) => {
  let t: TestServer;
  // A JWKS endpoint that accepts connections and never answers: verifying an RS256 token hangs
  // (jose gives up after 5 s, with a 401) — the upgrade must be dropped before that.
  const silent = createServer(() => {});
  beforeAll(async () => {
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const { port } = silent.address() as AddressInfo;
    t = await startServer(backend, { env: { JWKS_URL: `http://127.0.0.1:${port}/jwks`, HANDSHAKE_TIMEOUT_MS: '300' } });
  });
  afterAll(async () => {
    await t.close();
    silent.close();
  });

  it('HANDSHAKE_TIMEOUT_MS drops a WebSocket upgrade whose token check does not finish', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'stuck', exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url');
    const token = `${header}.${payload}.${'A'.repeat(43)}`;
    for (const path of ['/api/v1/ws', '/api/v1/main']) {
      const err = (await JsonSocket.open(`${t.wsUrl}${path}?token=${token}`).then(
        (s) => {
          s.close();
          return null;
        },
        (e: unknown) => e,
      )) as { status?: number } | null;
      // Dropped (socket hang up), not answered 401 once jose's own 5 s timeout fires.
      expect(err).not.toBeNull();
      expect(err?.status).toBeUndefined();
    }
  });
});
