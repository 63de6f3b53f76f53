import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as connectSocketIo, refusal, type TestSocket } from '../api/socketio/socketio-client.js';
import { StompTestClient } from '../api/stomp/stomp-clients.js';
import { api, registerUser, startServer, tokenFor, type TestServer, type TestUser } from '../support/test-server.js';
import { postgresBinDir, startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.js';
import { waitFor } from '../support/wait.js';
import { JsonSocket } from '../support/ws-client.js';

/**
 * Issue 16.6: with PostgreSQL stopped, requests get 503 + Retry-After on REST and a retryable
 * error in each realtime dialect's shape (never a 500); the outage is logged once when it starts
 * and once when it ends; the server recovers by itself when PostgreSQL is back. The database is
 * a throwaway cluster this file starts and stops (never the shared server).
 */

const installed = postgresBinDir() !== null;
if (!installed && process.env['CI']) throw new Error('PostgreSQL binaries are required in CI for the outage test');

const RETRYABLE = 'The service is temporarily unavailable: retry in a few seconds';

describe.skipIf(!installed)('a PostgreSQL outage', () => {
  let pg: ThrowawayPostgres;
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let group: number;
  const lines: { level: number; msg: string }[] = [];
  let hub: JsonSocket;
  let rooms: JsonSocket;
  let channels: JsonSocket;
  let stomp: StompTestClient;
  let sio: TestSocket;

  beforeAll(async () => {
    pg = await startThrowawayPostgres();
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    t = await startServer('postgres', { database: { url: pg.url, drop: async () => {} }, logger });
    alice = await registerUser(t);
    bob = await registerUser(t);
    group = (await t.server.core.createGroup(alice.id, { name: 'outage', memberIds: [bob.id] })).id;
    hub = await JsonSocket.open(`${t.wsUrl}/api/v1/ws`, { token: alice.token });
    rooms = await JsonSocket.open(`${t.wsUrl}/api/v1/group/${group}`, { token: alice.token });
    await rooms.next((f) => f.type === 'history');
    channels = await JsonSocket.open(`${t.wsUrl}/ws/chat/${group}/?token=${alice.token}`);
    await channels.next((f) => f.type === 'connection_established');
    stomp = await StompTestClient.connect(t, alice.token);
    await stomp.subscribe(`/topic/chat/${group}`);
    sio = await connectSocketIo(t, alice.token);
  }, 120_000);

  afterAll(async () => {
    for (const s of [hub, rooms, channels]) s?.close();
    sio?.close();
    await stomp?.client.deactivate();
    await t?.close();
    await pg?.destroy();
  }, 120_000);

  it('answers 503 + Retry-After and retryable realtime errors while it is down, logs it once, and recovers', async () => {
    const before = lines.length;
    await pg.stop();

    // REST, every dialect's send and a few reads: 503, Retry-After, the JSON error shape.
    const requests: [string, string, unknown?][] = [
      ['POST', `/api/v1/chat/direct/${bob.id}/send`, { body: 'while down' }],
      ['POST', `/api/v1/chat/direct/${bob.id}/send`, { body: 'while down again' }],
      ['GET', `/api/v1/chat/conversations/${group}/messages`],
      ['POST', `/api/chats/${group}/messages`, { content: 'while down' }],
      ['GET', '/api/chats'],
      ['GET', '/api/v1/chats'],
      ['GET', `/api/v1/group/${group}/users`],
    ];
    for (const [method, path, body] of requests) {
      const res = await api(t, alice, method, path, body);
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(503);
      expect(res.headers.get('retry-after'), `${method} ${path}`).toBe('5');
      expect(res.body).toEqual({ error: RETRYABLE });
    }
    expect((await fetch(`${t.url}/readyz`)).status).toBe(503);

    // hub: the error event; the socket stays open.
    hub.send({ type: 'message', data: { conversation_id: String(group), body: 'hub while down' } });
    expect(await hub.next((f) => f.type === 'error')).toEqual({ type: 'error', data: { error: RETRYABLE } });
    // rooms: its error frame.
    rooms.send({ type: 'message', text: 'rooms while down' });
    expect(await rooms.next((f) => f.type === 'error')).toEqual({ type: 'error', error: RETRYABLE });
    // channels: its error frame.
    channels.send({ type: 'message', text: 'channels while down' });
    expect(await channels.next((f) => f.type === 'error')).toEqual({ type: 'error', message: RETRYABLE });
    // Socket.IO: the failed ack, with the stable code.
    expect(await sio.call('send_message', { chatId: group, text: 'socket.io while down' })).toEqual({ success: false, error: RETRYABLE, code: 'unavailable' });
    // STOMP: ERROR (STOMP closes after it) with the retry hint.
    stomp.send(`/app/chat/${group}/sendMessage`, { content: 'stomp while down' });
    await waitFor(() => stomp.errors[0], 5000, 'STOMP ERROR');
    expect(stomp.errors[0]!.headers['message']).toBe(RETRYABLE);
    expect(stomp.errors[0]!.headers['retry-after']).toBe('5');

    // A new hub connection is told to retry, not that its token is bad.
    // (A token of a user the server has never seen: authenticating it needs the database.)
    const refused = await JsonSocket.open(`${t.wsUrl}/api/v1/ws`, { token: await tokenFor(`never-seen-${process.pid}`) }).then(
      () => 'open',
      (err: { status?: number }) => err.status,
    );
    expect(refused).toBe(503);
    const stranger = await tokenFor(`never-seen-either-${process.pid}`);
    const roomsRefused = await JsonSocket.open(`${t.wsUrl}/api/v1/main`, { token: stranger }).then(
      () => 'open',
      (err: { status?: number }) => err.status,
    );
    expect(roomsRefused).toBe(503);
    const lateChannels = await JsonSocket.open(`${t.wsUrl}/ws/chat/${group}/?token=${stranger}`);
    expect(await lateChannels.closed()).toEqual({ code: 4503, reason: 'unavailable, retry later' });
    const sioRefusal = await refusal(t, { auth: { token: stranger }, transports: ['websocket'] });
    expect(sioRefusal?.message).toBe(RETRYABLE);
    expect((sioRefusal as Error & { data?: unknown }).data).toEqual({ code: 'unavailable', retryAfterS: 5 });

    for (const s of [hub, rooms, channels]) expect(s.closeCode, 'plain sockets stay open').toBeNull();
    expect(sio.socket.connected).toBe(true);

    await pg.start();
    // Recovers by itself: the pool reconnects on the next request.
    await waitFor(async () => (await api(t, alice, 'POST', `/api/v1/chat/direct/${bob.id}/send`, { body: 'back' })).status === 200, 30_000, 'a send after the restart');
    hub.send({ type: 'message', data: { conversation_id: String(group), body: 'hub is back' } });
    await hub.next((f) => f.type === 'message' && f.data?.body === 'hub is back');
    expect((await sio.call('send_message', { chatId: group, text: 'socket.io is back' })).success).toBe(true);
    channels.send({ type: 'message', text: 'channels is back' });
    await channels.next((f) => f.type === 'message' && f.data?.text === 'channels is back');
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);

    // One line when it started, one when it ended; nothing per request, and never an error line.
    const during = lines.slice(before);
    expect(during.filter((l) => l.msg === 'database unavailable')).toHaveLength(1);
    expect(during.filter((l) => l.msg === 'database available again')).toHaveLength(1);
    expect(during.filter((l) => l.level >= 50), JSON.stringify(during.filter((l) => l.level >= 50))).toEqual([]);
    expect(during.filter((l) => l.level === 40 && l.msg !== 'database unavailable').map((l) => l.msg)).toEqual([]);
  }, 120_000);
});
