import { connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { startServer, tokenFor, type TestServer } from '../../support/test-server.js';
import { waitFor } from '../../support/wait.js';
import { JsonSocket } from '../../support/ws-client.js';
import { chatUrl, connect, isMessage, makeGroup, makeUser, refused, type ChannelsUser } from './helpers.js';

describe.each(backends)('channels connection on %s', (backend) => {
  let t: TestServer;
  let owner: ChannelsUser;
  let member: ChannelsUser;
  let outsider: ChannelsUser;
  let chatId: number;

  beforeAll(async () => {
    t = await startServer(backend);
    owner = await makeUser(t);
    member = await makeUser(t);
    outsider = await makeUser(t);
    chatId = await makeGroup(t, owner, [member]);
  });
  afterAll(async () => t.close());

  it('greets with connection_established carrying the numeric chat id', async () => {
    const socket = await JsonSocket.open(chatUrl(t, chatId, owner.token));
    const first = await socket.next();
    expect(first).toEqual({ type: 'connection_established', message: 'Successfully connected to chat', chat_id: chatId });
    expect(socket.frames).toHaveLength(1);
    socket.close();
  });

  it.each(['header', 'token', 'access_token'] as const)('accepts the token as %s', async (carrier) => {
    const socket = await connect(t, chatId, member, carrier);
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);
    socket.close();
    await socket.closed();
  });

  it('accepts the path without the trailing slash', async () => {
    const socket = await connect(t, chatId, member, 'token', false);
    socket.close();
    await socket.closed();
  });

  it('closes with 4401 and no event when the token is missing, forged or expired', async () => {
    const expired = await tokenFor(owner.id, {}, { expiresIn: '-10s' });
    const forged = await tokenFor(owner.id, {}, { secret: 'another-secret-another-secret-another-secret' });
    for (const result of [
      await refused(chatUrl(t, chatId)),
      await refused(chatUrl(t, chatId, 'garbage')),
      await refused(chatUrl(t, chatId, expired)),
      await refused(chatUrl(t, chatId), forged),
      await refused(chatUrl(t, 'abc', 'garbage')),
    ]) {
      expect(result).toEqual({ code: 4401, reason: 'unauthorized', frames: [] });
    }
  });

  it('closes with 4403 and no event for a non-member, an unknown chat and a malformed id alike', async () => {
    for (const id of [chatId, 999_999, 'abc', '0', '-1', '1.5', '99999999999999999999']) {
      expect(await refused(chatUrl(t, id, outsider.token))).toEqual({ code: 4403, reason: 'forbidden', frames: [] });
    }
  });

  it('answers an upgrade on an unrelated path with 404, not a socket', async () => {
    await expect(JsonSocket.open(`${t.wsUrl}/ws/chat/`)).rejects.toMatchObject({ status: 404 });
    await expect(JsonSocket.open(`${t.wsUrl}/ws/chat/${chatId}/extra/`)).rejects.toMatchObject({ status: 404 });
  });

  it('keeps one connection per user per chat: a newer one replaces the older with 4409', async () => {
    const other = await makeGroup(t, owner, [member]);
    const first = await connect(t, chatId, member);
    const elsewhere = await connect(t, other, member);
    const second = await connect(t, chatId, member);
    expect(await first.closed()).toEqual({ code: 4409, reason: 'replaced' });

    await t.server.core.sendMessage(owner.id, { chatId, text: 'after replacement' });
    await second.next(isMessage('after replacement'));
    // The connection to another chat is not affected, and the user is still online.
    expect(elsewhere.ws.readyState).toBe(elsewhere.ws.OPEN);
    expect((await t.server.core.presenceOf(member.id)).online).toBe(true);
    expect(first.frames.filter((f) => f.type === 'message')).toEqual([]);
    second.close();
    elsewhere.close();
    await Promise.all([second.closed(), elsewhere.closed()]);
  });

  it('does not let another user replace a connection', async () => {
    const mine = await connect(t, chatId, member);
    const theirs = await connect(t, chatId, owner);
    await t.server.core.sendMessage(owner.id, { chatId, text: 'both stay' });
    await mine.next(isMessage('both stay'));
    await theirs.next(isMessage('both stay'));
    mine.close();
    theirs.close();
    await Promise.all([mine.closed(), theirs.closed()]);
  });

  it('closes a removed member with 4403, keeps the others', async () => {
    const gone = await makeUser(t);
    const chat = await makeGroup(t, owner, [gone, member]);
    const ownerSocket = await connect(t, chat, owner);
    const goneSocket = await connect(t, chat, gone);
    await t.server.core.removeMembers(owner.id, chat, [gone.id]);
    expect(await goneSocket.closed()).toEqual({ code: 4403, reason: 'forbidden' });
    await t.server.core.sendMessage(owner.id, { chatId: chat, text: 'still here' });
    await ownerSocket.next(isMessage('still here'));
    // And it cannot come back.
    expect((await refused(chatUrl(t, chat, gone.token))).code).toBe(4403);
    ownerSocket.close();
    await ownerSocket.closed();
  });

  it('closes a member who leaves with 4403', async () => {
    const leaver = await makeUser(t);
    const chat = await makeGroup(t, owner, [leaver]);
    const socket = await connect(t, chat, leaver);
    await t.server.core.removeMembers(leaver.id, chat, [leaver.id]);
    expect((await socket.closed()).code).toBe(4403);
  });

  it('closes every connection of a deleted chat with 4403', async () => {
    const chat = await makeGroup(t, owner, [member]);
    const a = await connect(t, chat, owner);
    const b = await connect(t, chat, member);
    await t.server.core.deleteGroup(owner.id, chat);
    expect((await a.closed()).code).toBe(4403);
    expect((await b.closed()).code).toBe(4403);
    expect((await refused(chatUrl(t, chat, owner.token))).code).toBe(4403);
  });

  it('counts a connection for presence and forgets it on close', async () => {
    const lonely = await makeUser(t);
    const chat = await makeGroup(t, owner, [lonely]);
    const socket = await connect(t, chat, lonely);
    expect((await t.server.core.presenceOf(lonely.id)).online).toBe(true);
    socket.close();
    await socket.closed();
    await waitFor(async () => !(await t.server.core.presenceOf(lonely.id)).online, 5000, 'offline');
  });

  it('works in a private chat too', async () => {
    const { chat } = await t.server.core.openPrivateChat(owner.id, outsider.id);
    const socket = await connect(t, chat.id, outsider);
    socket.send({ type: 'message', text: 'private hello' });
    await socket.next(isMessage('private hello'));
    socket.close();
    await socket.closed();
  });

  it('leaves no session behind for clients that hang up during the handshake', async () => {
    // Sessions of earlier tests are closed by now (each awaits its closes).
    await waitFor(() => t.server.registry.size === 0, 5000, 'earlier sessions gone');
    const { port } = new URL(t.url);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => new Promise<void>((resolve) => {
        const sock = tcpConnect(Number(port), '127.0.0.1', () => {
          sock.write(
            `GET /ws/chat/${chatId}/?token=${member.token} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
              `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
          );
          // Half of them reset the connection, half close it politely.
          if (i % 2) sock.resetAndDestroy(); else sock.destroy();
          resolve();
        });
        sock.on('error', () => resolve());
      })),
    );
    const socket = await connect(t, chatId, member);
    socket.send({ type: 'message', text: 'after the hang-ups' });
    await socket.next(isMessage('after the hang-ups'));
    socket.close();
    await socket.closed();
    await waitFor(() => t.server.registry.size === 0, 5000, 'no session left behind');
  });

  it('closes a frame over the size limit with 1009', async () => {
    const socket = await connect(t, chatId, member);
    socket.send({ type: 'message', text: 'x'.repeat(128 * 1024) });
    expect((await socket.closed()).code).toBe(1009);
  });
});
