import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import WebSocket from 'ws';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';
import { waitFor } from '../../support/wait.js';
import { StompTestClient, type Transport } from './stomp-clients.js';

describe.each(backends)('stomp over SockJS on %s', (backend) => {
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let mallory: TestUser;
  let chatId: number;
  beforeAll(async () => {
    t = await startServer(backend);
    alice = await registerUser(t);
    bob = await registerUser(t);
    mallory = await registerUser(t);
    chatId = Number((await api(t, alice, 'POST', '/api/chats', { type: 'group', name: 'SockJS', participantIds: [bob.id] })).body.id);
  });
  afterAll(async () => t.close());

  it('serves /ws-chat/info', async () => {
    const res = await fetch(`${t.url}/ws-chat/info`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ websocket: true });
  });

  for (const transport of ['websocket', 'xhr-streaming', 'xhr-polling'] as Transport[]) {
    it(`carries messages both ways over the ${transport} transport`, async () => {
      const a = await StompTestClient.connect(t, alice.token, { sockjs: true, transport });
      const b = await StompTestClient.connect(t, bob.token, { sockjs: true, transport });
      // sockjs-client names the transport it really uses: no silent fallback.
      expect((a.client.webSocket as unknown as { transport: string }).transport).toBe(transport);
      await a.subscribe(`/topic/chat/${chatId}`);
      await b.subscribe(`/topic/chat/${chatId}`);
      await b.subscribe('/user/queue/notifications');
      a.send(`/app/chat/${chatId}/sendMessage`, { content: `via ${transport}` });
      expect(await b.next(`/topic/chat/${chatId}`, (e) => e.type === 'MESSAGE' && e.payload.content === `via ${transport}`)).toMatchObject({ chatId, payload: { senderId: alice.id } });
      expect(await b.next('/user/queue/notifications', (e) => e.type === 'NEW_MESSAGE')).toMatchObject({ chatId, senderId: alice.id, preview: `via ${transport}` });
      b.send(`/app/chat/${chatId}/sendMessage`, { content: `back via ${transport}` });
      await a.next(`/topic/chat/${chatId}`, (e) => e.type === 'MESSAGE' && e.payload.content === `back via ${transport}`);
      await Promise.all([a.close(), b.close()]);
    });
  }

  it('authenticates with ?token= on the SockJS URL, and refuses a non-member with Access denied', async () => {
    const q = await StompTestClient.connect(t, null, { sockjs: true, transport: 'xhr-streaming', connectHeaders: {}, query: `?token=${bob.token}` });
    await q.subscribe(`/topic/chat/${chatId}`);
    expect(q.errors).toEqual([]);
    await q.close();
    const w = await StompTestClient.connect(t, null, { sockjs: true, transport: 'websocket', connectHeaders: {}, query: `?token=${bob.token}` });
    await w.subscribe(`/topic/chat/${chatId}`);
    expect(w.errors).toEqual([]);
    await w.close();
    await expect(StompTestClient.connect(t, null, { sockjs: true, transport: 'xhr-polling', connectHeaders: {} })).rejects.toThrow(/Unauthorized/);
    const m = await StompTestClient.connect(t, mallory.token, { sockjs: true, transport: 'xhr-polling' });
    m.client.subscribe(`/topic/chat/${chatId}`, () => {});
    expect((await m.error()).headers['message']).toBe('Access denied');
    await waitFor(() => m.closed, 5000, 'close after ERROR');
  });

  it('keeps /ws-chat (plain STOMP) and /ws-chat/... (SockJS) apart, and unknown upgrade paths do not hang', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(`${t.wsUrl}/ws-chat/websocket`);
      ws.on('open', () => ws.send(`CONNECT\naccept-version:1.2\nAuthorization:Bearer ${alice.token}\n\n\u0000`));
      ws.on('message', (d) => {
        resolve(d.toString());
        ws.close();
      });
      ws.on('error', reject);
    });
    expect(raw.startsWith('CONNECTED\n')).toBe(true);
    const status = (path: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${t.wsUrl}${path}`);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', () => resolve(-1));
      });
    expect(await status('/ws-chat')).toBe(101);
    expect(await status('/nowhere')).toBe(404);
    expect(await status('/ws-chat/a/b/c/d')).toBe(404);
    // Peers that vanish before SockJS answers must not take the process down.
    const port = Number(new URL(t.url).port);
    for (let i = 0; i < 20; i++) {
      const sock = net.connect(port, '127.0.0.1', () => {
        sock.write('GET /ws-chat/a/b/c/d HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
        sock.destroy();
      });
      sock.on('error', () => {});
    }
    await new Promise((r) => setTimeout(r, 200));
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${t.url}/ws-chat/nope/x`)).status).toBe(404);
    const big = await fetch(`${t.url}/ws-chat/000/abcdefgh/xhr_send`, { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024) });
    expect(big.status).toBe(413);
  });

  it('shuts down with clients open on every transport, closing them', async () => {
    const t2 = await startServer(backend);
    const u = await registerUser(t2);
    const clients = [
      await StompTestClient.connect(t2, u.token),
      await StompTestClient.connect(t2, u.token, { sockjs: true, transport: 'websocket' }),
      await StompTestClient.connect(t2, u.token, { sockjs: true, transport: 'xhr-streaming' }),
    ];
    const started = Date.now();
    await t2.close();
    expect(Date.now() - started).toBeLessThan(9000);
    await waitFor(() => clients.every((c) => c.closed), 5000, 'clients closed');
    await Promise.all(clients.map((c) => c.close()));
  });
});
