import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';
import { sleep, waitFor } from '../../support/wait.js';
import { connect, type TestSocket } from './socketio-client.js';

const NO_ACCESS = 'У вас нет доступа к этому чату';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe.each(backends)('socketio events on %s', (backend) => {
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let eve: TestUser;
  const open: TestSocket[] = [];
  const track = (s: TestSocket): TestSocket => (open.push(s), s);
  const userOf = (u: TestUser) => ({ id: u.id, email: `${u.username}@example.com`, username: u.username });
  const group = async (owner: TestUser, members: TestUser[], name = 'group'): Promise<number> =>
    (await t.server.core.createGroup(owner.id, { name, memberIds: members.map((m) => m.id) })).id;
  const send = async (user: TestUser, chatId: number, text: string) => (await t.server.core.sendMessage(user.id, { chatId, text })).message;

  beforeAll(async () => {
    t = await startServer(backend);
    alice = await registerUser(t);
    bob = await registerUser(t);
    eve = await registerUser(t);
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await t.close();
  });

  it('send_message answers with the seed message shape and pushes new_message to joined sockets, sender included', async () => {
    const chatId = await group(alice, [bob]);
    const a = track(await connect(t, alice.token));
    const b = track(await connect(t, bob.token));
    expect(await a.call('join_chat', { chatId: String(chatId) })).toEqual({ success: true, messages: [] });
    expect(await b.call('join_chat', { chatId })).toEqual({ success: true, messages: [] });

    const ack = await a.call('send_message', { chatId: String(chatId), text: 'Привет, Боб' });
    expect(ack).toEqual({
      success: true,
      message: {
        id: expect.stringMatching(/^\d+$/),
        text: 'Привет, Боб',
        sender: alice.id,
        chatId: String(chatId),
        createdAt: expect.stringMatching(ISO),
        user: userOf(alice),
      },
    });
    expect(await b.nextMessage((m) => m.id === ack.message.id)).toEqual(ack.message);
    expect(await a.nextMessage((m) => m.id === ack.message.id)).toEqual(ack.message);
  });

  it('join_chat answers with the latest 50 messages, oldest first', async () => {
    const chatId = await group(alice, [bob]);
    for (let i = 1; i <= 55; i++) await send(i % 2 ? alice : bob, chatId, `m${i}`);
    const a = track(await connect(t, alice.token));
    const joined = await a.call('join_chat', { chatId });
    expect(joined.success).toBe(true);
    expect(joined.messages.map((m: any) => m.text)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i + 6}`));
    expect(joined.messages[0]).toEqual({
      id: expect.stringMatching(/^\d+$/),
      text: 'm6',
      sender: bob.id,
      chatId: String(chatId),
      createdAt: expect.stringMatching(ISO),
      user: userOf(bob),
    });
  });

  it('get_chat_messages pages back from the newest with limit/offset (numbers or strings)', async () => {
    const chatId = await group(alice, [bob]);
    for (let i = 1; i <= 5; i++) await send(alice, chatId, `p${i}`);
    const b = track(await connect(t, bob.token));
    const all = await b.call('get_chat_messages', { chatId });
    expect(all.success).toBe(true);
    expect(all.messages.map((m: any) => m.text)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    expect(all.messages[0].user).toEqual(userOf(alice));
    const page = await b.call('get_chat_messages', { chatId: String(chatId), limit: 2, offset: 1 });
    expect(page.messages.map((m: any) => m.text)).toEqual(['p3', 'p4']);
    const strings = await b.call('get_chat_messages', { chatId, limit: '2', offset: '0' });
    expect(strings.messages.map((m: any) => m.text)).toEqual(['p4', 'p5']);
    // get_chat_messages does not join: nothing is pushed to this socket.
    expect(b.received).toEqual([]);
  });

  it('get_my_chats lists chats by activity with users and the last message', async () => {
    const carol = await registerUser(t);
    const quiet = await group(carol, [alice], 'quiet');
    const older = await group(carol, [bob], 'older');
    const newer = await group(carol, [alice, bob], 'newer');
    // Activity is ordered at millisecond resolution: keep the steps in distinct milliseconds.
    await sleep(5);
    await send(bob, newer, 'first in newer');
    await sleep(5);
    const last = await send(carol, older, 'latest overall');
    const c = track(await connect(t, carol.token));
    const mine = await c.call('get_my_chats');
    expect(mine.success).toBe(true);
    expect(mine.chats.map((chat: any) => chat.id)).toEqual([String(older), String(newer), String(quiet)]);
    const [first, second, third] = mine.chats;
    expect(first.users).toEqual(expect.arrayContaining([userOf(carol), userOf(bob)]));
    expect(first.users).toHaveLength(2);
    expect(first.messages).toEqual([
      { id: String(last.id), text: 'latest overall', sender: carol.id, chatId: String(older), createdAt: expect.stringMatching(ISO), user: userOf(carol) },
    ]);
    expect(second.users).toHaveLength(3);
    expect(second.messages).toEqual([expect.objectContaining({ text: 'first in newer', user: userOf(bob) })]);
    expect(third.messages).toEqual([]);
    // With an explicit (ignored) payload too.
    expect((await c.call('get_my_chats', {})).chats).toHaveLength(3);
  });

  it('leave_chat answers success and stops delivery for that chat only', async () => {
    const left = await group(alice, [bob], 'left');
    const kept = await group(alice, [bob], 'kept');
    const b = track(await connect(t, bob.token));
    await b.call('join_chat', { chatId: left });
    await b.call('join_chat', { chatId: kept });
    expect(await b.call('leave_chat', { chatId: String(left) })).toEqual({ success: true });
    const skipped = await send(alice, left, 'after leave');
    const marker = await send(alice, kept, 'marker');
    await b.nextMessage((m) => m.id === String(marker.id), 'marker');
    expect(b.received.find((m) => m.id === String(skipped.id))).toBeUndefined();
    // Still readable on demand, and joining again resumes delivery.
    expect((await b.call('get_chat_messages', { chatId: left })).messages.at(-1).text).toBe('after leave');
    await b.call('join_chat', { chatId: left });
    const again = await send(alice, left, 'after rejoin');
    await b.nextMessage((m) => m.id === String(again.id), 'rejoined');
  });

  it('a member that did not join gets no new_message', async () => {
    const chatId = await group(alice, [bob]);
    const other = await group(alice, [bob]);
    const b = track(await connect(t, bob.token));
    await b.call('join_chat', { chatId: other });
    const unseen = await send(alice, chatId, 'not joined');
    const marker = await send(alice, other, 'marker');
    await b.nextMessage((m) => m.id === String(marker.id));
    expect(b.received.some((m) => m.id === String(unseen.id))).toBe(false);
  });

  it('refuses non-members and unknown chats with the same error on every event', async () => {
    const chatId = await group(alice, [bob]);
    await send(alice, chatId, 'secret');
    const e = track(await connect(t, eve.token));
    for (const id of [chatId, String(chatId), 999_999]) {
      for (const [event, payload] of [
        ['join_chat', { chatId: id }],
        ['send_message', { chatId: id, text: 'let me in' }],
        ['get_chat_messages', { chatId: id }],
      ] as const) {
        expect(await e.call(event, payload), `${event} ${id}`).toEqual({ success: false, error: NO_ACCESS, code: 'forbidden' });
      }
    }
    // The refused join left nothing behind: a later message is not pushed.
    const later = await send(alice, chatId, 'still secret');
    const own = await group(eve, [alice]);
    await e.call('join_chat', { chatId: own });
    const marker = await send(eve, own, 'marker');
    await e.nextMessage((m) => m.id === String(marker.id));
    expect(e.received.some((m) => m.id === String(later.id))).toBe(false);
    expect((await t.server.core.history(alice.id, chatId, { limit: 10, offset: 0 })).map((m) => m.text)).toEqual(['secret', 'still secret']);
  });

  it('answers bad payloads with an error ack and keeps the connection', async () => {
    const chatId = await group(alice, [bob]);
    const a = track(await connect(t, alice.token));
    const cases: [string, unknown[], RegExp][] = [
      ['send_message', [], /object/],
      ['send_message', [null], /object/],
      ['send_message', ['text'], /object/],
      ['send_message', [[chatId]], /object/],
      ['send_message', [{ text: 'no chat' }], /chatId/],
      ['send_message', [{ chatId: 'abc', text: 'x' }], /chatId/],
      ['send_message', [{ chatId: 1.5, text: 'x' }], /chatId/],
      ['send_message', [{ chatId: -1, text: 'x' }], /chatId/],
      ['send_message', [{ chatId: { id: chatId }, text: 'x' }], /chatId/],
      ['send_message', [{ chatId }], /string/],
      ['send_message', [{ chatId, text: 42 }], /string/],
      ['send_message', [{ chatId, text: '   ' }], /empty/],
      ['send_message', [{ chatId, text: 'x'.repeat(1001) }], /1000/],
      ['join_chat', [{}], /chatId/],
      ['join_chat', [{ chatId: '' }], /chatId/],
      ['leave_chat', [{ chatId: 'x' }], /chatId/],
      ['get_chat_messages', [{ chatId, limit: -1 }], /limit/],
      ['get_chat_messages', [{ chatId, limit: 'ten' }], /limit/],
      ['get_chat_messages', [{ chatId, offset: 1.5 }], /offset/],
      ['no_such_event', [{ chatId }], /Unknown event/],
    ];
    for (const [event, args, error] of cases) {
      const ack = await a.call(event, ...args);
      expect(ack, `${event} ${JSON.stringify(args)}`).toEqual({ success: false, error: expect.stringMatching(error), code: 'bad_request' });
    }
    expect(a.socket.connected).toBe(true);
    // Emoji count as one character each: 1000 of them fit.
    expect(await a.call('send_message', { chatId, text: '😀'.repeat(1000) })).toMatchObject({ success: true });
    expect((await t.server.core.history(alice.id, chatId, { limit: 10, offset: 0 })).map((m) => m.text)).toEqual(['😀'.repeat(1000)]);
  });

  it('runs events sent without an acknowledgement callback and survives bad ones', async () => {
    const chatId = await group(alice, [bob]);
    const a = track(await connect(t, alice.token));
    a.socket.emit('send_message', null);
    a.socket.emit('send_message', { chatId: 'nope' });
    a.socket.emit('get_my_chats');
    a.socket.emit('no_such_event');
    a.socket.emit('join_chat', { chatId });
    a.socket.emit('send_message', { chatId, text: 'no callback' });
    const pushed = await a.nextMessage((m) => m.text === 'no callback');
    expect(pushed).toMatchObject({ sender: alice.id, chatId: String(chatId), user: userOf(alice) });
    expect((await t.server.core.history(bob.id, chatId, { limit: 10, offset: 0 })).map((m) => m.text)).toEqual(['no callback']);
    expect(a.socket.connected).toBe(true);
    expect(await a.call('get_chat_messages', { chatId })).toMatchObject({ success: true });
  });

  it('delivers messages crossing from and to another path (the core)', async () => {
    const chatId = await group(alice, [bob]);
    const b = track(await connect(t, bob.token));
    await b.call('join_chat', { chatId });
    const fromCore = await send(alice, chatId, 'from another dialect');
    expect(await b.nextMessage((m) => m.id === String(fromCore.id))).toEqual({
      id: String(fromCore.id),
      text: 'from another dialect',
      sender: alice.id,
      chatId: String(chatId),
      createdAt: new Date(fromCore.createdAt).toISOString(),
      user: userOf(alice),
    });
    const ack = await b.call('send_message', { chatId, text: 'to another dialect' });
    const stored = await t.server.core.history(alice.id, chatId, { limit: 1, offset: 0 });
    expect(stored).toEqual([expect.objectContaining({ id: Number(ack.message.id), senderId: bob.id, text: 'to another dialect', chatId })]);
  });

  it('delivers to every joined socket of a user (multi-device)', async () => {
    const chatId = await group(alice, [bob]);
    const b1 = track(await connect(t, bob.token));
    const b2 = track(await connect(t, bob.token, { transports: ['polling'] }));
    await b1.call('join_chat', { chatId });
    await b2.call('join_chat', { chatId });
    const m = await send(alice, chatId, 'to both devices');
    await b1.nextMessage((x) => x.id === String(m.id));
    await b2.nextMessage((x) => x.id === String(m.id));
  });

  it('stops delivery and access when the user is removed, and does not resume on re-add', async () => {
    const chatId = await group(alice, [bob]);
    const kept = await group(alice, [bob]);
    const b = track(await connect(t, bob.token));
    await b.call('join_chat', { chatId });
    await b.call('join_chat', { chatId: kept });
    await t.server.core.removeMembers(alice.id, chatId, [bob.id]);
    expect(await b.call('send_message', { chatId, text: 'after removal' })).toEqual({ success: false, error: NO_ACCESS, code: 'forbidden' });
    expect(await b.call('get_chat_messages', { chatId })).toMatchObject({ success: false, error: NO_ACCESS });
    // Re-added: a member again, but this socket's join was dropped with the removal.
    await t.server.core.addMembers(alice.id, chatId, [bob.id]);
    const unseen = await send(alice, chatId, 'after re-add');
    const marker = await send(alice, kept, 'marker');
    await b.nextMessage((m) => m.id === String(marker.id));
    expect(b.received.some((m) => m.id === String(unseen.id))).toBe(false);
  });

  it('forgets a deleted chat', async () => {
    const chatId = await group(alice, [bob]);
    const b = track(await connect(t, bob.token));
    await b.call('join_chat', { chatId });
    await t.server.core.deleteGroup(alice.id, chatId);
    expect(await b.call('get_chat_messages', { chatId })).toEqual({ success: false, error: NO_ACCESS, code: 'forbidden' });
    expect(await b.call('join_chat', { chatId })).toEqual({ success: false, error: NO_ACCESS, code: 'forbidden' });
  });

  it('answers a rate-limited send with the core message', async () => {
    const own = await startServer(backend, { env: { RATE_LIMIT_MESSAGES: '2', RATE_LIMIT_WINDOW_S: '3600' } });
    try {
      const u = await registerUser(own);
      const v = await registerUser(own);
      const chatId = (await own.server.core.createGroup(u.id, { name: 'limited', memberIds: [v.id] })).id;
      const s = await connect(own, u.token);
      try {
        expect(await s.call('send_message', { chatId, text: '1' })).toMatchObject({ success: true });
        expect(await s.call('send_message', { chatId, text: '2' })).toMatchObject({ success: true });
        expect(await s.call('send_message', { chatId, text: '3' })).toEqual({ success: false, error: 'Rate limit exceeded', code: 'rate_limited' });
      } finally {
        s.close();
      }
    } finally {
      await own.close();
    }
  });

  it('counts a pushed message as delivered to the recipient', async () => {
    const chatId = await group(alice, [bob]);
    const b = track(await connect(t, bob.token));
    await b.call('join_chat', { chatId });
    const m = await send(alice, chatId, 'track me');
    await b.nextMessage((x) => x.id === String(m.id));
    await waitFor(async () => {
      const [summary] = (await t.server.core.listChats(bob.id, { limit: null, offset: 0 })).filter((s) => s.chat.id === chatId);
      return summary !== undefined && summary.member.deliveredSeq >= m.seq;
    }, 5000, 'delivered cursor');
  });
});
