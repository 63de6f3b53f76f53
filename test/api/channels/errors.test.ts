import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { startServer, type TestServer } from '../../support/test-server.js';
import type { JsonSocket } from '../../support/ws-client.js';
import { connect, isError, isMessage, makeGroup, makeUser, type ChannelsUser } from './helpers.js';

/** Sends a bad frame, expects exactly this error, then proves the socket still works. */
async function expectError(socket: JsonSocket, frame: unknown, message: string, probe: string): Promise<void> {
  socket.send(frame);
  expect(await socket.next((f) => f.type === 'error')).toEqual({ type: 'error', message });
  socket.send({ type: 'message', text: probe });
  await socket.next(isMessage(probe));
}

describe.each(backends)('channels errors on %s', (backend) => {
  let t: TestServer;
  let user: ChannelsUser;
  let chatId: number;
  let socket: JsonSocket;
  let n = 0;
  const probe = (): string => `still open ${++n}`;

  beforeAll(async () => {
    t = await startServer(backend);
    user = await makeUser(t);
    const other = await makeUser(t);
    chatId = await makeGroup(t, user, [other]);
    socket = await connect(t, chatId, user);
  });
  afterAll(async () => {
    socket.close();
    await t.close();
  });

  it('answers the seed’s errors verbatim and stays open', async () => {
    await expectError(socket, '{"type": "message", "text": ', 'Invalid JSON format', probe());
    await expectError(socket, 'not json at all', 'Invalid JSON format', probe());
    await expectError(socket, { type: 'message', text: '' }, 'Message text cannot be empty', probe());
    await expectError(socket, { type: 'message', text: '   \n\t ' }, 'Message text cannot be empty', probe());
    await expectError(socket, { type: 'message' }, 'Message text cannot be empty', probe());
    await expectError(socket, { type: 'invalid_type' }, 'Unknown message type: invalid_type', probe());
  });

  it('refuses a text over MAX_MESSAGE_LENGTH (1000 by default) and accepts one at the limit', async () => {
    await expectError(socket, { type: 'message', text: 'a'.repeat(1001) }, 'Message text exceeds 1000 characters', probe());
    socket.send({ type: 'message', text: 'b'.repeat(1000) });
    await socket.next(isMessage('b'.repeat(1000)));
    // Counted in code points: 1000 emoji are 1000 characters.
    socket.send({ type: 'message', text: '😀'.repeat(1000) });
    await socket.next(isMessage('😀'.repeat(1000)));
  });

  it('answers other bad frames with a clear error and stays open', async () => {
    const cases: [unknown, string][] = [
      ['[1, 2]', 'Invalid message format: expected a JSON object'],
      ['null', 'Invalid message format: expected a JSON object'],
      ['42', 'Invalid message format: expected a JSON object'],
      ['"message"', 'Invalid message format: expected a JSON object'],
      [{ text: 'no type' }, 'Message type is required'],
      [{ type: 5 }, 'Message type must be a string'],
      [{ type: 'message', text: 42 }, 'Message text must be a string'],
      [{ type: 'message', text: ['a'] }, 'Message text must be a string'],
      [{ type: 'typing', is_typing: 'yes' }, 'is_typing must be a boolean'],
      [{ type: 'typing' }, 'is_typing must be a boolean'],
    ];
    for (const [frame, message] of cases) await expectError(socket, frame, message, probe());
  });

  it('answers a binary frame with the seed\'s `Invalid JSON format` and stays open', async () => {
    socket.ws.send(Buffer.from(JSON.stringify({ type: 'message', text: 'binary' })), { binary: true });
    expect(await socket.next((f) => f.type === 'error')).toEqual({ type: 'error', message: 'Invalid JSON format' });
    socket.ws.send(Buffer.from([0x01, 0x02, 0x03, 0x00, 0xff]), { binary: true });
    expect(await socket.next((f) => f.type === 'error')).toEqual({ type: 'error', message: 'Invalid JSON format' });
    const text = probe();
    socket.send({ type: 'message', text });
    await socket.next(isMessage(text));
  });

  it('stores nothing for a refused frame', async () => {
    const before = await t.server.core.history(user.id, chatId, { limit: 200, offset: 0 });
    socket.send({ type: 'message', text: '' });
    socket.send({ type: 'message', text: 'x'.repeat(1001) });
    await socket.next(isError('Message text cannot be empty'));
    await socket.next(isError('Message text exceeds 1000 characters'));
    const after = await t.server.core.history(user.id, chatId, { limit: 200, offset: 0 });
    expect(after.map((m) => m.id)).toEqual(before.map((m) => m.id));
  });
});

describe.each(backends)('channels under the seed’s limits on %s', (backend) => {
  let t: TestServer;
  let user: ChannelsUser;
  let other: ChannelsUser;
  let chatId: number;

  beforeAll(async () => {
    // The seed's own figures: 10 messages a minute per user; and a shorter text limit to prove it is configurable.
    t = await startServer(backend, { env: { RATE_LIMIT_MESSAGES: '10', RATE_LIMIT_WINDOW_S: '60', MAX_MESSAGE_LENGTH: '20' } });
    user = await makeUser(t);
    other = await makeUser(t);
    chatId = await makeGroup(t, user, [other]);
  });
  afterAll(async () => t.close());

  it('refuses the 11th message in a minute with Rate limit exceeded, stores 10, stays open', async () => {
    const socket = await connect(t, chatId, user);
    const watcher = await connect(t, chatId, other);
    for (let i = 1; i <= 11; i++) socket.send({ type: 'message', text: `burst ${i}` });
    expect(await socket.next((f) => f.type === 'error')).toEqual({ type: 'error', message: 'Rate limit exceeded' });
    for (let i = 1; i <= 10; i++) await watcher.next(isMessage(`burst ${i}`));
    await watcher.none(isMessage('burst 11'));
    const stored = await t.server.core.history(user.id, chatId, { limit: 200, offset: 0 });
    expect(stored.map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `burst ${i + 1}`));
    // Still open: typing and read receipts are not sends and go through.
    socket.send({ type: 'read_messages' });
    await watcher.next((f) => f.type === 'messages_read');
    socket.close();
    watcher.close();
  });

  it('uses the configured MAX_MESSAGE_LENGTH in the error', async () => {
    const socket = await connect(t, chatId, other);
    socket.send({ type: 'message', text: 'x'.repeat(21) });
    expect(await socket.next((f) => f.type === 'error')).toEqual({ type: 'error', message: 'Message text exceeds 20 characters' });
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);
    socket.close();
  });
});
