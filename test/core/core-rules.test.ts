import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../src/domain/events.js';
import { backends } from '../support/backends.js';
import { registerUser, startServer, type TestServer, type TestUser } from '../support/test-server.js';
import { sleep, waitFor } from '../support/wait.js';

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);

describe.each(backends)('core rules on %s', (backend) => {
  let t: TestServer;
  let owner: TestUser, admin: TestUser, member: TestUser, outsider: TestUser;
  const events: DomainEvent[] = [];

  beforeAll(async () => {
    t = await startServer(backend, { env: { MAX_MESSAGE_LENGTH: '10' }, coreOverrides: { typingTtlMs: 200 } });
    t.server.broker.subscribe((e) => events.push(e));
    [owner, admin, member, outsider] = await Promise.all([registerUser(t), registerUser(t), registerUser(t), registerUser(t)]);
  });
  afterAll(async () => t.close());

  const core = () => t.server.core;

  it('validates message text: empty, whitespace, too long (code points), non-string', async () => {
    const chat = await core().createGroup(owner.id, { name: 'text', memberIds: [] });
    await expect(core().sendMessage(owner.id, { chatId: chat.id, text: '' })).rejects.toMatchObject({ code: 'bad_request', reason: 'text_empty' });
    await expect(core().sendMessage(owner.id, { chatId: chat.id, text: ' \n\t ' })).rejects.toMatchObject({ reason: 'text_empty' });
    await expect(core().sendMessage(owner.id, { chatId: chat.id, text: 'x'.repeat(11) })).rejects.toMatchObject({
      reason: 'text_too_long',
      message: 'Message text exceeds 10 characters',
    });
    await expect(core().sendMessage(owner.id, { chatId: chat.id, text: 42 })).rejects.toMatchObject({ reason: 'text_not_string' });
    // Ten emoji are ten code points (twenty UTF-16 units): allowed.
    const emoji = '😀'.repeat(10);
    expect((await core().sendMessage(owner.id, { chatId: chat.id, text: emoji })).message.text).toBe(emoji);
    expect((await core().sendMessage(owner.id, { chatId: chat.id, text: '  pad  ' })).message.text).toBe('  pad  ');
  });

  it('checks membership on every read, send, typing and receipt', async () => {
    const chat = await core().createGroup(owner.id, { name: 'private club', memberIds: [member.id] });
    await expect(core().sendMessage(outsider.id, { chatId: chat.id, text: 'hi' })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(core().history(outsider.id, chat.id, { limit: 10, offset: 0 })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(core().setTyping(outsider.id, chat.id, true)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(core().markRead(outsider.id, chat.id)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(core().sendMessage(owner.id, { chatId: 987654, text: 'hi' })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('applies roles: owner/admin manage, members leave, only the owner deletes', async () => {
    const chat = await core().createGroup(owner.id, { name: 'roles', memberIds: [member.id] });
    await expect(core().addMembers(member.id, chat.id, [admin.id])).rejects.toMatchObject({ code: 'forbidden' });
    await core().addMembers(owner.id, chat.id, [admin.id]);
    await expect(core().addMembers(owner.id, chat.id, [admin.id])).rejects.toMatchObject({ code: 'conflict' });
    await expect(core().addMembers(owner.id, chat.id, ['no-such-user'])).rejects.toMatchObject({ code: 'not_found' });
    await expect(core().removeMembers(owner.id, chat.id, [outsider.id])).rejects.toMatchObject({ code: 'conflict' });
    await expect(core().removeMembers(member.id, chat.id, [owner.id])).rejects.toMatchObject({ code: 'forbidden' });
    await expect(core().removeMembers(owner.id, chat.id, [owner.id])).rejects.toMatchObject({ code: 'forbidden' });
    await expect(core().deleteGroup(member.id, chat.id)).rejects.toMatchObject({ code: 'forbidden' });
    // A member leaves by itself and loses access at once.
    await core().sendMessage(member.id, { chatId: chat.id, text: 'bye' });
    await core().removeMembers(member.id, chat.id, [member.id]);
    await expect(core().history(member.id, chat.id, { limit: 10, offset: 0 })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(core().sendMessage(member.id, { chatId: chat.id, text: 'back?' })).rejects.toMatchObject({ code: 'forbidden' });
    await core().deleteGroup(owner.id, chat.id);
    await expect(core().history(owner.id, chat.id, { limit: 10, offset: 0 })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('makes private chats get-or-create per pair, never with yourself or an unknown user', async () => {
    const first = await core().openPrivateChat(owner.id, member.id);
    const second = await core().openPrivateChat(member.id, owner.id);
    expect(second.chat.id).toBe(first.chat.id);
    expect(second.created).toBe(false);
    await expect(core().openPrivateChat(owner.id, owner.id)).rejects.toMatchObject({ code: 'bad_request' });
    await expect(core().openPrivateChat(owner.id, 'ghost')).rejects.toMatchObject({ code: 'not_found' });
    await expect(core().addMembers(owner.id, first.chat.id, [admin.id])).rejects.toMatchObject({ code: 'bad_request' });
    expect(await core().findPrivateChatId(member.id, owner.id)).toBe(first.chat.id);
  });

  it('checks reply_to belongs to the same chat', async () => {
    const a = await core().createGroup(owner.id, { name: 'a', memberIds: [] });
    const b = await core().createGroup(owner.id, { name: 'b', memberIds: [] });
    const inA = (await core().sendMessage(owner.id, { chatId: a.id, text: 'root' })).message;
    expect((await core().sendMessage(owner.id, { chatId: a.id, text: 'reply', replyTo: inA.id })).message.replyTo).toBe(inA.id);
    await expect(core().sendMessage(owner.id, { chatId: b.id, text: 'cross', replyTo: inA.id })).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('announces committed messages once, in seq order, with the members and sender profile', async () => {
    const chat = await core().createGroup(owner.id, { name: 'events', memberIds: [member.id] });
    const before = events.length;
    await Promise.all([1, 2, 3, 4].map((i) => core().sendMessage(member.id, { chatId: chat.id, text: `e${i}` })));
    const mine = await waitFor(() => {
      const got = events.slice(before).filter((e) => e.type === 'message.created' && e.chatId === chat.id);
      return got.length === 4 ? got : undefined;
    });
    expect(mine.map((e) => (e.type === 'message.created' ? e.message.seq : 0))).toEqual([1, 2, 3, 4]);
    const first = mine[0]!;
    expect(first.type === 'message.created' && [...first.memberIds].sort()).toEqual([owner.id, member.id].sort());
    expect(first.type === 'message.created' && first.sender.username).toBe(member.username);
  });

  it('returns the original message for a retried client message id', async () => {
    const chat = await core().createGroup(owner.id, { name: 'idem', memberIds: [] });
    const a = await core().sendMessage(owner.id, { chatId: chat.id, text: 'once', clientMsgId: 'c-1' });
    const b = await core().sendMessage(owner.id, { chatId: chat.id, text: 'once', clientMsgId: 'c-1' });
    expect(b).toMatchObject({ message: a.message, created: false });
    // The retry carries the original as an unpublished event, for the retrying connection's echo.
    expect(a.replay).toBeUndefined();
    expect(b.replay).toMatchObject({ type: 'message.created', chatId: chat.id, message: a.message, memberIds: [owner.id] });
    expect(await core().history(owner.id, chat.id, { limit: 10, offset: 0 })).toHaveLength(1);
  });

  it('expires typing by itself', async () => {
    const chat = await core().createGroup(owner.id, { name: 'typing', memberIds: [member.id] });
    const before = events.length;
    await core().setTyping(member.id, chat.id, true);
    await expect(core().setTyping(member.id, chat.id, 'yes')).rejects.toMatchObject({ code: 'bad_request' });
    const typing = await waitFor(() => {
      const got = events.slice(before).filter((e) => e.type === 'typing' && e.chatId === chat.id);
      return got.length >= 2 ? got : undefined;
    }, 3000);
    expect(typing.map((e) => e.type === 'typing' && e.isTyping)).toEqual([true, false]);
  });

  it('tracks read cursors and unread counts', async () => {
    const chat = await core().createGroup(owner.id, { name: 'unread', memberIds: [member.id] });
    await core().sendMessage(owner.id, { chatId: chat.id, text: '1' });
    await core().sendMessage(owner.id, { chatId: chat.id, text: '2' });
    await core().sendMessage(member.id, { chatId: chat.id, text: 'mine' });
    expect((await core().getChatSummary(member.id, chat.id)).unreadCount).toBe(2);
    expect(await core().markRead(member.id, chat.id)).toEqual({ readSeq: 3 });
    expect((await core().getChatSummary(member.id, chat.id)).unreadCount).toBe(0);
  });

  it('counts history as delivery and announces it per message', async () => {
    const chat = await core().createGroup(owner.id, { name: 'delivery', memberIds: [member.id] });
    const m = (await core().sendMessage(owner.id, { chatId: chat.id, text: 'deliver' })).message;
    const before = events.length;
    await core().history(member.id, chat.id, { limit: 10, offset: 0 });
    const receipt = await waitFor(() => events.slice(before).find((e) => e.type === 'receipt.delivered' && e.chatId === chat.id));
    expect(receipt.type === 'receipt.delivered' && receipt.entries).toEqual([{ userId: member.id, messageId: m.id, seq: m.seq }]);
    // The cursor is written in bulk, within receiptPersistMs (2 s) of the announcement.
    await waitFor(async () => (await t.server.store.getMember(chat.id, member.id))?.deliveredSeq === m.seq, 5000, 'the stored delivered cursor');
    // A second read of the same page is not announced again.
    const again = events.length;
    await core().history(member.id, chat.id, { limit: 10, offset: 0 });
    await sleep(300);
    expect(events.slice(again).filter((e) => e.type === 'receipt.delivered')).toEqual([]);
  });

  it('accepts images by content and refuses other files and oversize ones', async () => {
    const chat = await core().createGroup(owner.id, { name: 'pics', memberIds: [], avatar: PNG });
    expect(chat.avatarUrl).toMatch(/^\/uploads\/groups\/[A-Za-z0-9_-]+\.png$/);
    const res = await fetch(`${t.url}${chat.avatarUrl}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await res.arrayBuffer()).equals(PNG)).toBe(true);
    await expect(core().createGroup(owner.id, { name: 'x', memberIds: [], avatar: Buffer.from('GIF8-not-an-image') })).rejects.toMatchObject({ code: 'unsupported_media_type' });
    await expect(core().createGroup(owner.id, { name: 'x', memberIds: [], avatar: Buffer.from('<svg></svg>') })).rejects.toMatchObject({ code: 'unsupported_media_type' });
    expect((await fetch(`${t.url}/uploads/../../etc/passwd`)).status).toBe(404);
    expect((await fetch(`${t.url}/uploads/groups/nope.png`)).status).toBe(404);
  });
});

describe.each(backends)('send rate limit on %s', (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(backend, { env: { RATE_LIMIT_MESSAGES: '5', RATE_LIMIT_WINDOW_S: '60' } });
  });
  afterAll(async () => t.close());

  it('refuses the sixth send in the window and stores nothing for it', async () => {
    const core = t.server.core;
    const sender = await registerUser(t);
    const other = await registerUser(t);
    const chat = await core.createGroup(sender.id, { name: 'rl', memberIds: [other.id] });
    for (let i = 0; i < 5; i++) await core.sendMessage(sender.id, { chatId: chat.id, text: `m${i}` });
    await expect(core.sendMessage(sender.id, { chatId: chat.id, text: 'one too many' })).rejects.toMatchObject({ code: 'rate_limited', message: 'Rate limit exceeded' });
    // The limit is per user: another member still sends.
    await core.sendMessage(other.id, { chatId: chat.id, text: 'mine' });
    expect((await core.history(sender.id, chat.id, { limit: 50, offset: 0 })).map((m) => m.text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'mine']);
  });
});
