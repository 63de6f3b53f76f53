import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { backends } from '../support/backends.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../support/test-server.js';
import { waitFor } from '../support/wait.js';

/**
 * A client that stops reading (its TCP socket paused) while others chat at full speed: its
 * connection is closed as a slow consumer (1013) once MAX_BUFFERED_BYTES pile up, everyone else
 * gets every message, the server's memory stays bounded, and the slow client catches up by seq.
 * `SOAK=1` (npm run soak) runs the same with far more traffic.
 */
const SOAK = process.env['SOAK'] === '1';
const MESSAGES = SOAK ? 1200 : 300;
const TEXT_BYTES = 60_000;
const MAX_BUFFERED = 1024 * 1024;
const timeout = SOAK ? 600_000 : 120_000;

describe.each(backends)('slow consumers on %s', (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(backend, { env: { MAX_BUFFERED_BYTES: String(MAX_BUFFERED), MAX_MESSAGE_LENGTH: '100000' } });
  });
  afterAll(async () => t.close());

  let round = 0;
  /** Sends `count` long messages through the core, a few at a time in flight (full speed, bounded client side). */
  const burst = async (sender: TestUser, chatId: number, count: number): Promise<void> => {
    const text = `${'x'.repeat(TEXT_BYTES)}-${++round}`;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        next++;
        await t.server.core.sendMessage(sender.id, { chatId, text });
        // The readers live in this process too: let them read between sends.
        await new Promise((r) => setImmediate(r));
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  };

  /** A hub socket that only counts `message` events (no copies kept: the RSS measured is the server's). */
  const counter = (user: TestUser): Promise<{ ws: WebSocket; seqs: number[] }> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`${t.wsUrl}/api/v1/ws`, { headers: { authorization: `Bearer ${user.token}` } });
      const seqs: number[] = [];
      ws.on('message', (data) => {
        const text = data.toString();
        const m = /"type":"message".*"seq":(\d+)/.exec(text.slice(-200)) ?? /"seq":(\d+)/.exec(text.slice(-200));
        if (text.startsWith('{"type":"message"') && m) seqs.push(Number(m[1]));
      });
      ws.on('error', () => {});
      ws.once('open', () => resolve({ ws, seqs }));
      ws.once('unexpected-response', () => reject(new Error('refused')));
    });

  /** Catch-up the way a hub client does: page back from the newest until it reaches a seq it has. */
  const catchUp = async (user: TestUser, chatId: number, have: Set<number>): Promise<void> => {
    for (let offset = 0; ; offset += 200) {
      const page = await api(t, user, 'GET', `/api/v1/chat/conversations/${chatId}/messages?limit=200&offset=${offset}`);
      expect(page.status).toBe(200);
      const seqs = (page.body.messages as { seq: number }[]).map((m) => m.seq);
      for (const s of seqs) have.add(s);
      // Oldest first: once a page reaches back to a seq the client already had (or to 1), it is done.
      const oldest = seqs[0] ?? 1;
      if (seqs.length < 200 || oldest <= 1 || have.has(oldest - 1)) break;
    }
  };

  it(
    'a plain WebSocket client that stops reading is closed with 1013; others get everything; it catches up by seq',
    async () => {
      const sender = await registerUser(t);
      const fast = await registerUser(t);
      const slow = await registerUser(t);
      const chat = await t.server.core.createGroup(sender.id, { name: 'firehose', memberIds: [fast.id, slow.id] });
      const f = await counter(fast);
      let fastClose: number | null = null;
      f.ws.on('close', (code) => {
        fastClose = code;
      });
      const s = await counter(slow);
      let closeCode: number | null = null;
      s.ws.on('close', (code) => {
        closeCode = code;
      });
      await waitFor(() => t.server.registry.sessionsOf(slow.id).size === 1, 5000, 'slow session registered');
      const serverSide = [...t.server.registry.sessionsOf(slow.id)][0] as unknown as { ws: WebSocket };
      (s.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

      // The moment the server gives up on it (it terminates a peer that still reads nothing a
      // second later), the client reads again: the close frame queued last must say 1013.
      const resumed = waitFor(() => serverSide.ws.readyState !== WebSocket.OPEN, timeout, 'server closing the slow socket').then(() =>
        (s.ws as unknown as { _socket: { resume(): void } })._socket.resume(),
      );
      const rssBefore = process.memoryUsage().rss;
      await burst(sender, chat.id, MESSAGES);
      const rssAfter = process.memoryUsage().rss;

      // The server gave up on the slow socket before the burst ended.
      expect(serverSide.ws.readyState).not.toBe(WebSocket.OPEN);
      await resumed;
      await waitFor(() => closeCode !== null, 10_000, 'slow socket closed');
      expect(closeCode).toBe(1013);
      expect(s.seqs.length).toBeLessThan(MESSAGES);

      // Everyone else got every message, in seq order.
      await waitFor(() => f.seqs.length >= MESSAGES || fastClose !== null, 30_000, `fast client has ${MESSAGES} messages`);
      expect(fastClose).toBeNull();
      expect(f.seqs).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
      // Generous: without the cap the slow socket alone would hold ~MESSAGES × 60 KB.
      expect(rssAfter - rssBefore).toBeLessThan(MESSAGES * TEXT_BYTES + 64 * 1024 * 1024);

      // The slow client catches up by seq through history.
      const have = new Set(s.seqs);
      await catchUp(slow, chat.id, have);
      expect([...have].sort((a, b) => a - b)).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
      f.ws.close();
    },
    timeout,
  );
  it(
    'a Socket.IO client that stops reading is disconnected by the server; others get everything; it catches up',
    async () => {
      const sender = await registerUser(t);
      const fast = await registerUser(t);
      const slow = await registerUser(t);
      const chat = await t.server.core.createGroup(sender.id, { name: 'firehose-io', memberIds: [fast.id, slow.id] });
      const open = async (user: TestUser) => {
        const socket = io(t.url, { forceNew: true, reconnection: false, transports: ['websocket'], auth: { token: user.token } });
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', () => resolve());
          socket.once('connect_error', reject);
        });
        const ids: string[] = [];
        socket.on('new_message', (m: { id: string }) => ids.push(m.id));
        const joined = await socket.timeout(5000).emitWithAck('join_chat', { chatId: String(chat.id) });
        expect(joined.success).toBe(true);
        return { socket, ids };
      };
      const f = await open(fast);
      const s = await open(slow);
      let reason: string | null = null;
      s.socket.on('disconnect', (r: string) => {
        reason = r;
      });
      const engineWs = (s.socket.io.engine as unknown as { transport: { ws: { _socket: { pause(): void; resume(): void } } } }).transport.ws;
      engineWs._socket.pause();
      const resumed = waitFor(() => t.server.registry.sessionsOf(slow.id).size === 0, timeout, 'server dropping the slow socket').then(() =>
        engineWs._socket.resume(),
      );
      const rssBefore = process.memoryUsage().rss;
      await burst(sender, chat.id, MESSAGES);
      const rssAfter = process.memoryUsage().rss;
      expect(t.server.registry.sessionsOf(slow.id).size).toBe(0);
      await resumed;
      await waitFor(() => reason !== null, 10_000, 'slow socket disconnected');
      expect(['io server disconnect', 'transport close']).toContain(reason);
      expect(s.ids.length).toBeLessThan(MESSAGES);

      await waitFor(() => f.ids.length >= MESSAGES, 30_000, `fast client has ${MESSAGES} messages`);
      expect(new Set(f.ids).size).toBe(MESSAGES);
      expect(rssAfter - rssBefore).toBeLessThan(MESSAGES * TEXT_BYTES + 64 * 1024 * 1024);

      // Catch-up: reconnect and page the history (get_chat_messages counts back from the newest).
      const again = await open(slow);
      const have = new Set(s.ids);
      for (let offset = 0; offset < MESSAGES; offset += 200) {
        const page = await again.socket.timeout(5000).emitWithAck('get_chat_messages', { chatId: String(chat.id), limit: 200, offset });
        expect(page.success).toBe(true);
        for (const m of page.messages as { id: string }[]) have.add(m.id);
      }
      expect(have.size).toBe(MESSAGES);
      expect([...have].every((id) => f.ids.includes(id))).toBe(true);
      again.socket.close();
      f.socket.close();
    },
    timeout,
  );
  it(
    'a STOMP-over-SockJS client that stops reading is closed with 1013; others get everything',
    async () => {
      const sender = await registerUser(t);
      const fast = await registerUser(t);
      const slow = await registerUser(t);
      const chat = await t.server.core.createGroup(sender.id, { name: 'firehose-sockjs', memberIds: [fast.id, slow.id] });
      /** SockJS's websocket transport spoken by hand: `o`, then `a[...]` arrays of STOMP frames, `c[code,reason]` to close. */
      const open = async (user: TestUser) => {
        const ws = new WebSocket(`${t.wsUrl}/ws-chat/000/${Math.random().toString(36).slice(2)}/websocket`);
        const state = { ws, messages: 0, receipts: 0, connected: false, close: null as [number, string] | null };
        ws.on('message', (data) => {
          const text = data.toString();
          if (text.startsWith('c')) state.close = JSON.parse(text.slice(1)) as [number, string];
          if (!text.startsWith('a')) return;
          for (const frame of JSON.parse(text.slice(1)) as string[]) {
            if (frame.startsWith('CONNECTED')) state.connected = true;
            else if (frame.startsWith('RECEIPT')) state.receipts++;
            else if (frame.startsWith('MESSAGE') && frame.includes('"type":"MESSAGE"')) state.messages++;
          }
        });
        ws.on('error', () => {});
        await new Promise((r) => ws.once('open', r));
        const send = (frame: string): void => ws.send(JSON.stringify([frame]));
        send(`CONNECT\naccept-version:1.2\nheart-beat:0,0\nAuthorization:Bearer ${user.token}\n\n\u0000`);
        await waitFor(() => state.connected, 5000, 'CONNECTED');
        send(`SUBSCRIBE\nid:0\ndestination:/topic/chat/${chat.id}\nreceipt:r1\n\n\u0000`);
        await waitFor(() => state.receipts === 1, 5000, 'RECEIPT');
        return state;
      };
      const f = await open(fast);
      const s = await open(slow);
      const raw = (s.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      raw.pause();
      const resumed = waitFor(() => t.server.registry.sessionsOf(slow.id).size === 0, timeout, 'server dropping the slow session').then(() =>
        raw.resume(),
      );
      const rssBefore = process.memoryUsage().rss;
      await burst(sender, chat.id, MESSAGES);
      const rssAfter = process.memoryUsage().rss;
      expect(t.server.registry.sessionsOf(slow.id).size).toBe(0);
      await resumed;
      await waitFor(() => s.close !== null, 10_000, 'SockJS close frame');
      expect(s.close).toEqual([1013, 'slow consumer']);
      expect(s.messages).toBeLessThan(MESSAGES);
      await waitFor(() => f.messages >= MESSAGES, 30_000, `fast client has ${MESSAGES} messages`);
      expect(f.messages).toBe(MESSAGES);
      expect(rssAfter - rssBefore).toBeLessThan(MESSAGES * TEXT_BYTES + 64 * 1024 * 1024);
      f.ws.close();
    },
    timeout,
  );
});
