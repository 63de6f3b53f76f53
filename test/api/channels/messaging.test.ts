import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { startServer, type TestServer } from '../../support/test-server.js';
import { waitFor } from '../../support/wait.js';
import { connect, isMessage, makeGroup, makeUser, type ChannelsUser } from './helpers.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe.each(backends)('channels messaging on %s', (backend) => {
  let t: TestServer;
  let john: ChannelsUser;
  let jane: ChannelsUser;
  let chatId: number;

  beforeAll(async () => {
    // A short typing TTL so that the expiry is observable in a test (the default is 6 s).
    t = await startServer(backend, { coreOverrides: { typingTtlMs: 300 } });
    john = await makeUser(t, { username: 'john_doe', first_name: 'John', last_name: 'Doe' });
    jane = await makeUser(t, { username: 'jane_roe', first_name: 'Jane', last_name: 'Roe' });
    chatId = await makeGroup(t, john, [jane]);
  });
  afterAll(async () => t.close());

  it('sends a message to every connection in the chat, the sender included, in the seed shape', async () => {
    const a = await connect(t, chatId, john);
    const b = await connect(t, chatId, jane);
    a.send({ type: 'message', text: 'Привет, как дела?' });
    const mine = await a.next(isMessage('Привет, как дела?'));
    const theirs = await b.next(isMessage('Привет, как дела?'));
    expect(theirs).toEqual(mine);
    expect(mine).toEqual({
      type: 'message',
      data: {
        id: expect.any(Number),
        text: 'Привет, как дела?',
        sender: { id: Number(john.id), username: 'john_doe', first_name: 'John', last_name: 'Doe' },
        timestamp: expect.stringMatching(ISO),
        is_edited: false,
        is_deleted: false,
      },
    });
    const [stored] = await t.server.core.history(jane.id, chatId, { limit: 1, offset: 0 });
    expect(stored).toMatchObject({ id: mine.data.id, text: 'Привет, как дела?', senderId: john.id });
    expect(mine.data.timestamp).toBe(new Date(stored!.createdAt).toISOString());
    a.close();
    b.close();
  });

  it('keeps a client’s messages in the order it sent them', async () => {
    const a = await connect(t, chatId, john);
    // 60 frames in one burst: more than the 32 that pause reading, so pause and resume are exercised.
    const texts = Array.from({ length: 60 }, (_, i) => `ordered ${i}`);
    for (const text of texts) a.send({ type: 'message', text });
    for (const text of texts) await a.next(isMessage(text));
    const got = a.frames.filter((f) => f.type === 'message' && f.data.text.startsWith('ordered ')).map((f) => f.data.text);
    expect(got).toEqual(texts);
    const history = await t.server.core.history(john.id, chatId, { limit: 60, offset: 0 });
    expect(history.map((m) => m.text)).toEqual(texts);
    // And reading resumed once the queue drained.
    a.send({ type: 'message', text: 'after the burst' });
    await a.next(isMessage('after the burst'));
    a.close();
  });

  it('stores the text as sent, untrimmed', async () => {
    const a = await connect(t, chatId, john);
    a.send({ type: 'message', text: '  spaced  ' });
    expect((await a.next(isMessage('  spaced  '))).data.text).toBe('  spaced  ');
    a.close();
  });

  it('ignores a sender field sent by the client', async () => {
    const a = await connect(t, chatId, jane);
    a.send({ type: 'message', text: 'who am I', sender: { id: Number(john.id) }, user_id: Number(john.id) });
    expect((await a.next(isMessage('who am I'))).data.sender.id).toBe(Number(jane.id));
    a.close();
  });

  it('renders non-numeric user ids as strings and missing names as empty strings', async () => {
    const ext = await makeUser(t, { username: 'ext_user' }, 'auth0|abc');
    const chat = await makeGroup(t, john, [ext]);
    const a = await connect(t, chat, ext);
    a.send({ type: 'message', text: 'from ext' });
    expect((await a.next(isMessage('from ext'))).data.sender).toEqual({ id: 'auth0|abc', username: 'ext_user', first_name: '', last_name: '' });
    a.close();
  });

  it('sends typing to the others only, and expires it by itself', async () => {
    const a = await connect(t, chatId, john);
    const b = await connect(t, chatId, jane);
    a.send({ type: 'typing', is_typing: true });
    expect(await b.next((f) => f.type === 'typing')).toEqual({ type: 'typing', user_id: Number(john.id), username: 'john_doe', is_typing: true });
    a.send({ type: 'typing', is_typing: false });
    expect(await b.next((f) => f.type === 'typing')).toEqual({ type: 'typing', user_id: Number(john.id), username: 'john_doe', is_typing: false });
    // Not refreshed: the server says false after the TTL without the client asking.
    a.send({ type: 'typing', is_typing: true });
    expect((await b.next((f) => f.type === 'typing')).is_typing).toBe(true);
    expect((await b.next((f) => f.type === 'typing')).is_typing).toBe(false);
    await a.none((f) => f.type === 'typing');
    a.close();
    b.close();
  });

  it('marks the chat read on read_messages and tells the chat with messages_read', async () => {
    const a = await connect(t, chatId, john);
    const b = await connect(t, chatId, jane);
    await t.server.core.sendMessage(jane.id, { chatId, text: 'unread one' });
    await a.next(isMessage('unread one'));
    expect((await t.server.core.getChatSummary(john.id, chatId)).unreadCount).toBeGreaterThan(0);
    a.send({ type: 'read_messages' });
    const expected = { type: 'messages_read', user_id: Number(john.id), username: 'john_doe' };
    expect(await b.next((f) => f.type === 'messages_read')).toEqual(expected);
    expect(await a.next((f) => f.type === 'messages_read')).toEqual(expected);
    expect((await t.server.core.getChatSummary(john.id, chatId)).unreadCount).toBe(0);
    a.close();
    b.close();
  });

  it('makes a message sent here visible in another path’s history, and delivers one sent through the core', async () => {
    const a = await connect(t, chatId, john);
    a.send({ type: 'message', text: 'to the other paths' });
    const frame = await a.next(isMessage('to the other paths'));
    const history = await t.server.core.history(jane.id, chatId, { limit: 5, offset: 0 });
    expect(history.at(-1)).toMatchObject({ id: frame.data.id, text: 'to the other paths', senderId: john.id, chatId });

    const { message } = await t.server.core.sendMessage(jane.id, { chatId, text: 'from another path' });
    const arrived = await a.next(isMessage('from another path'));
    expect(arrived.data).toMatchObject({ id: message.id, sender: { id: Number(jane.id), username: 'jane_roe', first_name: 'Jane', last_name: 'Roe' } });
    a.close();
  });

  it('does not leak messages of other chats into a chat’s socket', async () => {
    const other = await makeGroup(t, john, [jane]);
    const a = await connect(t, chatId, john);
    await t.server.core.sendMessage(jane.id, { chatId: other, text: 'elsewhere' });
    await t.server.core.sendMessage(jane.id, { chatId, text: 'here' });
    await a.next(isMessage('here'));
    await a.none(isMessage('elsewhere'));
    a.close();
  });

  it('counts a pushed message as delivered to the recipient', async () => {
    const b = await connect(t, chatId, jane);
    const { message } = await t.server.core.sendMessage(john.id, { chatId, text: 'delivery check' });
    await b.next(isMessage('delivery check'));
    await waitFor(async () => (await t.server.core.getChatSummary(jane.id, chatId)).member.deliveredSeq >= message.seq, 5000, 'delivered cursor');
    b.close();
  });
});
