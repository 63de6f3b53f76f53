import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type IMessage } from '@stomp/stompjs';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresEnabled, type TestDatabase } from '../support/postgres.js';
import { deleteKeys, randomPrefix, redisEnabled, TEST_REDIS_URL } from '../support/redis.js';
import { freePort, haveRedisServer, killProcess, startRedisServer as startRedis } from '../support/redis-server.js';
import { spawnServer, type ServerProcess } from '../support/server-process.js';
import { TEST_SECRET, tokenFor } from '../support/test-server.js';
import { sleep, waitFor } from '../support/wait.js';
import { JsonSocket } from '../support/ws-client.js';

/**
 * Scale-out, end to end: several real server processes (`src/app/main.ts`) on one PostgreSQL
 * database and one Redis prefix act as one server, for clients of every dialect.
 */

const enabled = (await postgresEnabled()) && (await redisEnabled());
if (!enabled) process.stderr.write('[tests] multi-process test needs PostgreSQL and Redis; skipped.\n');
if (enabled && !haveRedisServer) process.stderr.write('[tests] redis-server is not on PATH; the Redis restart case is skipped.\n');

// ---------------------------------------------------------------------------------------------
// Processes

interface Instance {
  readonly name: string;
  readonly proc: ServerProcess;
  readonly url: string;
  readonly wsUrl: string;
}

const started: ServerProcess[] = [];
const tmpDirs: string[] = [];

async function startInstance(name: string, env: Record<string, string>): Promise<Instance> {
  const dir = mkdtempSync(join(tmpdir(), `scale-${name}-`));
  tmpDirs.push(dir);
  const proc = await spawnServer({ DATA_DIR: dir, JWT_SECRET: TEST_SECRET, ...env });
  started.push(proc);
  return { name, proc, url: proc.url, wsUrl: proc.url.replace(/^http/, 'ws') };
}

/** Ends a process we started, by its pid: SIGTERM (graceful), SIGKILL when it lingers. */
async function stopProcess(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

afterAll(async () => {
  await Promise.all(started.map((p) => stopProcess(p.child, p.exited)));
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});


// ---------------------------------------------------------------------------------------------
// HTTP and users

async function http(at: Instance, token: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${at.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON (metrics)
  }
  return { status: res.status, body: parsed };
}

interface User {
  readonly id: string;
  readonly token: string;
}

let userCounter = 0;
/** An identity-provider style user (token `sub`), created on the server by its first request. */
async function user(at: Instance, tag: string): Promise<User> {
  const id = `${tag}-${process.pid}-${++userCounter}`;
  const token = await tokenFor(id, { preferred_username: id });
  const res = await http(at, token, 'GET', '/auth/whoami');
  expect(res.status).toBe(200);
  return { id, token };
}

async function sendDirect(at: Instance, from: User, to: User, text: string): Promise<{ status: number; body: any }> {
  return http(at, from.token, 'POST', `/api/v1/chat/direct/${encodeURIComponent(to.id)}/send`, { body: text });
}

// ---------------------------------------------------------------------------------------------
// Receivers: one real client per dialect, each recording the texts of one chat's messages

interface Receiver {
  readonly label: string;
  readonly texts: string[];
  close(): void;
}

async function hubReceiver(at: Instance, u: User, chatId: number): Promise<Receiver & { socket: JsonSocket }> {
  const socket = await JsonSocket.open(`${at.wsUrl}/api/v1/ws`, { token: u.token });
  const texts: string[] = [];
  socket.ws.on('message', (raw) => {
    const f = JSON.parse(raw.toString()) as { type: string; data: { conversation_id?: string; body?: string } };
    if (f.type === 'message' && f.data.conversation_id === String(chatId)) texts.push(f.data.body ?? '');
  });
  return { label: `hub@${at.name}`, texts, socket, close: () => socket.ws.terminate() };
}

async function roomsGroupReceiver(at: Instance, u: User, chatId: number): Promise<Receiver> {
  const socket = await JsonSocket.open(`${at.wsUrl}/api/v1/group/${chatId}`, { token: u.token });
  const texts: string[] = [];
  socket.ws.on('message', (raw) => {
    const f = JSON.parse(raw.toString()) as { type: string; text?: string };
    if (f.type === 'message') texts.push(f.text ?? '');
  });
  await socket.next((f) => f.type === 'history'); // registered before the history is read
  return { label: `rooms-group@${at.name}`, texts, close: () => socket.ws.terminate() };
}

async function roomsMainReceiver(at: Instance, u: User, chatId: number): Promise<Receiver> {
  const socket = await JsonSocket.open(`${at.wsUrl}/api/v1/main`, { token: u.token });
  const texts: string[] = [];
  socket.ws.on('message', (raw) => {
    const f = JSON.parse(raw.toString()) as { type: string; chat_id?: number; text?: string };
    if (f.type === 'last_message' && f.chat_id === chatId) texts.push(f.text ?? '');
  });
  return { label: `rooms-main@${at.name}`, texts, close: () => socket.ws.terminate() };
}

async function channelsReceiver(at: Instance, u: User, chatId: number): Promise<Receiver> {
  const socket = await JsonSocket.open(`${at.wsUrl}/ws/chat/${chatId}/`, { token: u.token });
  const texts: string[] = [];
  socket.ws.on('message', (raw) => {
    const f = JSON.parse(raw.toString()) as { type: string; data?: { text?: string } };
    if (f.type === 'message') texts.push(f.data?.text ?? '');
  });
  await socket.next((f) => f.type === 'connection_established');
  return { label: `channels@${at.name}`, texts, close: () => socket.ws.terminate() };
}

/** @stomp/stompjs over a plain WebSocket, subscribed to the chat topic and the notifications queue. */
async function stompReceivers(at: Instance, u: User, chatId: number): Promise<[Receiver, Receiver]> {
  const client = new Client({
    webSocketFactory: () => new WebSocket(`${at.wsUrl}/ws-chat`, ['v12.stomp']),
    connectHeaders: { Authorization: `Bearer ${u.token}` },
    reconnectDelay: 0,
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    debug: () => {},
  });
  await new Promise<void>((resolve, reject) => {
    client.onConnect = () => resolve();
    client.onStompError = (frame) => reject(new Error(`STOMP ERROR ${frame.headers['message']}`));
    client.onWebSocketClose = () => reject(new Error('STOMP closed before CONNECTED'));
    client.activate();
  });
  client.onStompError = () => {};
  client.onWebSocketClose = () => {};
  client.onWebSocketError = () => {};
  const topic: string[] = [];
  const notifications: string[] = [];
  const subscribe = (destination: string, onBody: (body: any) => void): Promise<void> =>
    new Promise((resolve) => {
      const receipt = `r-${Math.random().toString(36).slice(2)}`;
      client.watchForReceipt(receipt, () => resolve());
      client.subscribe(destination, (m: IMessage) => onBody(JSON.parse(m.body)), { receipt });
    });
  await subscribe(`/topic/chat/${chatId}`, (b) => {
    if (b.type === 'MESSAGE' && b.chatId === chatId) topic.push(b.payload.content);
  });
  await subscribe('/user/queue/notifications', (b) => {
    if (b.type === 'NEW_MESSAGE' && b.chatId === chatId) notifications.push(b.preview);
  });
  const close = (): void => void client.forceDisconnect();
  return [
    { label: `stomp-topic@${at.name}`, texts: topic, close },
    { label: `stomp-notifications@${at.name}`, texts: notifications, close },
  ];
}

async function socketIoReceiver(at: Instance, u: User, chatId: number): Promise<Receiver> {
  const socket: Socket = io(at.url, { auth: { token: u.token }, transports: ['websocket'], reconnection: false, forceNew: true });
  const texts: string[] = [];
  socket.on('new_message', (m: { chatId: string; text: string }) => {
    if (m.chatId === String(chatId)) texts.push(m.text);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const ack = (await socket.timeout(5000).emitWithAck('join_chat', { chatId })) as { success: boolean };
  expect(ack.success).toBe(true);
  return { label: `socketio@${at.name}`, texts, close: () => socket.disconnect() };
}

/** Every dialect's receivers on one instance, one user each (channels allows one connection per user per chat). */
async function receiversOn(at: Instance, users: User[], chatId: number): Promise<Receiver[]> {
  const [u0, u1, u2, u3, u4, u5] = users as [User, User, User, User, User, User];
  return [
    await hubReceiver(at, u0, chatId),
    await roomsGroupReceiver(at, u1, chatId),
    await roomsMainReceiver(at, u2, chatId),
    await channelsReceiver(at, u3, chatId),
    ...(await stompReceivers(at, u4, chatId)),
    await socketIoReceiver(at, u5, chatId),
  ];
}

async function history(at: Instance, u: User, chatId: number): Promise<{ seq: number; body: string }[]> {
  const res = await http(at, u.token, 'GET', `/api/v1/chat/conversations/${chatId}/messages?limit=200`);
  expect(res.status).toBe(200);
  return (res.body as { messages: { seq: number; body: string }[] }).messages;
}

async function metric(at: Instance, name: string): Promise<number> {
  const res = await http(at, null, 'GET', '/metrics');
  const line = String(res.body)
    .split('\n')
    .find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

// ---------------------------------------------------------------------------------------------

describe.runIf(enabled)('three server processes on one PostgreSQL and one Redis act as one server', () => {
  let db: TestDatabase;
  const prefix = randomPrefix();
  let a: Instance;
  let b: Instance;
  let c: Instance;
  const receivers: Receiver[] = [];
  const sockets: JsonSocket[] = [];
  let observer: User;
  let observerOnA: JsonSocket;
  let watched: User;
  let burst: { chatId: number; senderFree: User };

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, RATE_LIMIT_MESSAGES: '5', RATE_LIMIT_WINDOW_S: '60' };
    a = await startInstance('A', env); // first alone: it runs the migrations
    [b, c] = await Promise.all([startInstance('B', env), startInstance('C', env)]);
    expect(new Set([a.url, b.url, c.url]).size).toBe(3);
  }, 90_000);

  afterAll(async () => {
    for (const r of receivers) r.close();
    for (const s of sockets) s.ws.terminate();
    await Promise.all(started.map((p) => stopProcess(p.child, p.exited)));
    await db?.drop();
    await deleteKeys(prefix);
  });

  it('every instance is ready with Redis', async () => {
    for (const at of [a, b, c]) {
      const res = await http(at, null, 'GET', '/readyz');
      expect(res.status).toBe(200);
      expect(res.body.checks).toMatchObject({ database: 'ok', redis: 'ok' });
    }
  });

  it('delivers a burst sent on A to clients of every dialect on B and C, exactly once and in seq order', { timeout: 60_000 }, async () => {
    const senders = await Promise.all([1, 2, 3, 4, 5, 6].map(() => user(a, 'sender')));
    const onB = await Promise.all([1, 2, 3, 4, 5, 6].map(() => user(b, 'rb')));
    const onC = await Promise.all([1, 2, 3, 4, 5, 6].map(() => user(c, 'rc')));
    const created = await http(a, senders[0]!.token, 'POST', '/api/chats', {
      type: 'group',
      name: 'scale',
      participantIds: [...senders.slice(1), ...onB, ...onC].map((u) => u.id),
    });
    expect(created.status).toBe(201);
    const chatId = Number(created.body.id);
    burst = { chatId, senderFree: onC[0]! };

    receivers.push(...(await receiversOn(b, onB, chatId)), ...(await receiversOn(c, onC, chatId)));
    expect(receivers).toHaveLength(14);

    // One hub socket per sender on A; 6 senders × 5 messages, all sockets sending at once.
    const hubSenders = await Promise.all(senders.map((s) => JsonSocket.open(`${a.wsUrl}/api/v1/ws`, { token: s.token })));
    sockets.push(...hubSenders);
    for (let i = 0; i < 5; i++) {
      hubSenders.forEach((ws, s) => ws.send({ type: 'message', data: { conversation_id: String(chatId), body: `burst-${s}-${i}` } }));
    }

    const stored = await waitFor(async () => {
      const h = await history(a, senders[0]!, chatId);
      return h.length === 30 && h;
    }, 20_000, '30 messages stored');
    expect(stored.map((m) => m.seq)).toEqual([...Array(30).keys()].map((i) => i + 1));
    const expected = stored.map((m) => m.body);
    for (let s = 0; s < 6; s++) expect(expected.filter((t) => t.startsWith(`burst-${s}-`))).toEqual([0, 1, 2, 3, 4].map((i) => `burst-${s}-${i}`));

    await waitFor(() => receivers.every((r) => r.texts.length >= 30), 20_000, `every receiver to get 30: ${receivers.map((r) => `${r.label}=${r.texts.length}`).join(' ')}`);
    await sleep(500); // room for a duplicate to show up
    for (const r of receivers) expect({ client: r.label, texts: r.texts }).toEqual({ client: r.label, texts: expected });
  });

  it('keeps per-chat seq order on every client when all three instances write to one chat at once', { timeout: 60_000 }, async () => {
    const writers = await Promise.all([a, b, c].map((at) => user(at, 'writer')));
    const readers = await Promise.all([a, b, c].map((at) => user(at, 'reader')));
    const created = await http(a, writers[0]!.token, 'POST', '/api/chats', {
      type: 'group',
      name: 'crossing',
      participantIds: [...writers.slice(1), ...readers].map((u) => u.id),
    });
    expect(created.status).toBe(201);
    const chatId = Number(created.body.id);
    const local: Receiver[] = [];
    for (const [i, at] of [a, b, c].entries()) {
      local.push(await hubReceiver(at, readers[i]!, chatId));
      local.push(await socketIoReceiver(at, writers[i]!, chatId));
    }
    // A first message, so every instance knows where the chat's seqs stand: the SeqOrderer
    // cannot hold an event for a chat it has never seen (it does not know what came before).
    const warm = await http(a, readers[0]!.token, 'POST', `/api/chats/${chatId}/messages`, { content: 'warm' });
    expect(warm.status).toBe(201);
    await waitFor(() => local.every((r) => r.texts.length === 1), 10_000, 'the first message everywhere');
    const instances = [a, b, c];
    const sends = await Promise.all(
      writers.map(async (w, i) => {
        const ws = await JsonSocket.open(`${instances[i]!.wsUrl}/api/v1/ws`, { token: w.token });
        sockets.push(ws);
        return ws;
      }),
    );
    for (let k = 0; k < 5; k++) sends.forEach((ws, i) => ws.send({ type: 'message', data: { conversation_id: String(chatId), body: `x-${i}-${k}` } }));
    const stored = await waitFor(async () => {
      const h = await history(a, writers[0]!, chatId);
      return h.length === 16 && h;
    }, 20_000, '15 messages stored');
    const expected = stored.map((m) => m.body);
    await waitFor(() => local.every((r) => r.texts.length >= 16), 20_000, 'every client to get 15');
    await sleep(500);
    for (const r of local) expect({ client: r.label, texts: r.texts }).toEqual({ client: r.label, texts: expected });
    for (const r of local) r.close();
  });

  it('shows presence of a user connected only to B on A (REST and a hub presence event)', async () => {
    observer = await user(a, 'observer');
    watched = await user(a, 'watched');
    expect((await sendDirect(a, observer, watched, 'hello')).status).toBe(200);
    observerOnA = await JsonSocket.open(`${a.wsUrl}/api/v1/ws`, { token: observer.token });
    sockets.push(observerOnA);
    expect((await http(a, observer.token, 'GET', `/api/v1/chat/presence/${watched.id}`)).body).toMatchObject({ online: false });

    const watchedOnB = await JsonSocket.open(`${b.wsUrl}/api/v1/ws`, { token: watched.token });
    sockets.push(watchedOnB);
    const event = await observerOnA.next((f) => f.type === 'presence' && f.data.user_id === watched.id, 10_000);
    expect(event.data).toEqual({ user_id: watched.id, online: true, last_seen: null });
    const rest = await http(a, observer.token, 'GET', `/api/v1/chat/presence/${watched.id}`);
    expect(rest.status).toBe(200);
    expect(rest.body).toEqual({ user_id: watched.id, online: true, last_seen: null });
  });

  it('holds the per-user send rate limit across instances (5 per window: 3 on A + 3 on B, the 6th refused)', async () => {
    const sender = await user(a, 'limited');
    const peer = await user(a, 'peer');
    for (let i = 1; i <= 3; i++) expect((await sendDirect(a, sender, peer, `a${i}`)).status).toBe(200);
    expect((await sendDirect(b, sender, peer, 'b1')).status).toBe(200);
    expect((await sendDirect(b, sender, peer, 'b2')).status).toBe(200);
    const sixth = await sendDirect(b, sender, peer, 'b3');
    expect(sixth).toEqual({ status: 429, body: { error: 'Rate limit exceeded' } });
    // And C, which took no part, refuses too; the other user is not limited.
    expect((await sendDirect(c, sender, peer, 'c1')).status).toBe(429);
    expect((await sendDirect(c, peer, sender, 'reply')).status).toBe(200);
  });

  it('keeps one channels connection per user per chat across instances: a newer one on C replaces the one on B', async () => {
    const w = await user(a, 'w');
    const v = await user(a, 'v');
    const first = await sendDirect(a, w, v, 'one');
    const second = await sendDirect(a, v, w, 'two');
    expect([first.status, second.status]).toEqual([200, 200]);
    const chatId = Number(first.body.message.conversation_id);
    const created = await http(a, w.token, 'POST', '/api/chats', { type: 'group', name: 'w-other', participantIds: [v.id] });
    expect(created.status).toBe(201);
    const otherChat = Number(created.body.id);

    const onB = await JsonSocket.open(`${b.wsUrl}/ws/chat/${chatId}/`, { token: w.token });
    const otherOnB = await JsonSocket.open(`${b.wsUrl}/ws/chat/${otherChat}/`, { token: w.token });
    const peerOnB = await JsonSocket.open(`${b.wsUrl}/ws/chat/${chatId}/`, { token: v.token });
    sockets.push(onB, otherOnB, peerOnB);
    for (const s of [onB, otherOnB, peerOnB]) await s.next((f) => f.type === 'connection_established');
    const onC = await JsonSocket.open(`${c.wsUrl}/ws/chat/${chatId}/`, { token: w.token });
    sockets.push(onC);
    await onC.next((f) => f.type === 'connection_established');
    expect(await onB.closed(10_000)).toEqual({ code: 4409, reason: 'replaced' });

    // The newest connection is the one that stays, and it works; the others were not touched.
    onC.send({ type: 'message', text: 'from C' });
    await onC.next((f) => f.type === 'message' && f.data.text === 'from C', 10_000);
    await peerOnB.next((f) => f.type === 'message' && f.data.text === 'from C', 10_000);
    expect(onC.closeCode).toBeNull();
    expect(otherOnB.closeCode).toBeNull();
    expect(peerOnB.closeCode).toBeNull();
  });

  it("announces B's users offline on A within 35 s after kill -9 of B", { timeout: 60_000 }, async () => {
    expect(observerOnA.frames.some((f) => f.type === 'presence' && f.data.user_id === watched.id && f.data.online === false)).toBe(false);
    b.proc.child.kill('SIGKILL');
    await b.proc.exited;
    const event = await observerOnA.next((f) => f.type === 'presence' && f.data.user_id === watched.id && f.data.online === false, 35_000);
    expect(typeof event.data.last_seen).toBe('number');
    const rest = await http(a, observer.token, 'GET', `/api/v1/chat/presence/${watched.id}`);
    expect(rest.body).toMatchObject({ user_id: watched.id, online: false });
    expect(typeof rest.body.last_seen).toBe('number');
    // A and C still act as one: a message sent on A (STOMP REST) reaches the receivers on C.
    const onC = receivers.filter((r) => r.label.endsWith('@C'));
    const sent = await http(a, burst.senderFree.token, 'POST', `/api/chats/${burst.chatId}/messages`, { content: 'after B died' });
    expect(sent.status).toBe(201);
    await waitFor(() => onC.every((r) => r.texts.length === 31), 10_000, 'receivers on C to get the message sent after the crash');
    for (const r of onC) expect(r.texts.at(-1)).toBe('after B died');
  });
});

describe.runIf(enabled && haveRedisServer)('a Redis restart in the middle (own throwaway redis-server)', () => {
  let db: TestDatabase;
  let redis: ChildProcess | null = null;
  const prefix = randomPrefix();
  const sockets: JsonSocket[] = [];


  async function killRedis(): Promise<void> {
    const child = redis;
    redis = null;
    await killProcess(child);
  }

  afterAll(async () => {
    for (const s of sockets) s.ws.terminate();
    await Promise.all(started.map((p) => stopProcess(p.child, p.exited)));
    await killRedis();
    await db?.drop();
  });

  it('delivers again after the restart, and a client catches up the gap by seq through history', { timeout: 60_000 }, async () => {
    db = await createTestDatabase();
    const port = await freePort();
    redis = await startRedis(port);
    const env = { DATABASE_URL: db.url, REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_PREFIX: prefix };
    const a = await startInstance('A', env);
    const b = await startInstance('B', env);
    const x = await user(a, 'x');
    const y = await user(a, 'y');
    const first = await sendDirect(a, x, y, 'before');
    expect(first.status).toBe(200);
    const chatId = Number(first.body.message.conversation_id);

    const yOnB = await JsonSocket.open(`${b.wsUrl}/api/v1/ws`, { token: y.token });
    sockets.push(yOnB);
    const seen = (): number[] => yOnB.frames.filter((f) => f.type === 'message' && f.data.conversation_id === String(chatId)).map((f) => f.data.seq);
    // Connected after 'before' was sent: a live message proves the socket is registered.
    expect((await sendDirect(a, x, y, 'live')).status).toBe(200);
    await yOnB.next((f) => f.type === 'message' && f.data.body === 'live', 10_000);

    await killRedis();
    await waitFor(async () => (await http(a, null, 'GET', '/readyz')).status === 503, 10_000, 'A to notice Redis is gone');
    for (const text of ['gap-1', 'gap-2', 'gap-3']) {
      const res = await sendDirect(a, x, y, text); // stored and answered; realtime delivery may be lost
      expect(res.status).toBe(200);
    }

    redis = await startRedis(port);
    await waitFor(async () => (await metric(b, 'chat_bus_resubscribes_total')) >= 1, 20_000, 'B to resubscribe');
    await waitFor(async () => (await http(a, null, 'GET', '/readyz')).status === 200, 20_000, 'A ready again');
    // The metric moves just before the warning is written; the line reaches the pipe a little later.
    await waitFor(async () => b.proc.logs.some((l) => l.includes('bus resubscribed after a lost link')), 5_000, 'B to log the resubscribe');

    const after = await sendDirect(a, x, y, 'after');
    expect(after.status).toBe(200);
    const afterFrame = await yOnB.next((f) => f.type === 'message' && f.data.body === 'after', 10_000);
    expect(afterFrame.data.seq).toBe(6);

    // Catch-up by seq, as a client does it: its cursor is the last seq it holds without a gap
    // (1 from history, 2 live); a later seq means a gap, filled from history (seq > cursor).
    const cursor = 2;
    expect(seen()[0]).toBe(cursor);
    const res = await http(b, y.token, 'GET', `/api/v1/chat/conversations/${chatId}/messages?limit=50`);
    expect(res.status).toBe(200);
    const messages = res.body.messages as { seq: number; body: string }[];
    const gap = messages.filter((m) => m.seq > cursor);
    expect(gap.map((m) => [m.seq, m.body])).toEqual([
      [3, 'gap-1'],
      [4, 'gap-2'],
      [5, 'gap-3'],
      [6, 'after'],
    ]);
    // Live and caught-up together: every seq once, none missing.
    expect([...new Set([...seen(), ...gap.map((m) => m.seq)])].sort((p, q) => p - q)).toEqual([2, 3, 4, 5, 6]);
  });
});
