import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../src/domain/events.js';
import { backends } from '../support/backends.js';
import { registerUser, startServer, type TestServer, type TestUser } from '../support/test-server.js';
import { waitFor } from '../support/wait.js';

/** Issue 18's rules, once in the core: who edits and deletes what, and what each change announces. */
describe.each(backends)('message edit/delete rules on %s', (backend) => {
  let t: TestServer;
  let owner: TestUser, admin: TestUser, member: TestUser, outsider: TestUser;
  const events: DomainEvent[] = [];

  beforeAll(async () => {
    t = await startServer(backend, { env: { MAX_MESSAGE_LENGTH: '10' } });
    t.server.broker.subscribe((e) => events.push(e));
    [owner, admin, member, outsider] = await Promise.all([registerUser(t), registerUser(t), registerUser(t), registerUser(t)]);
  });
  afterAll(async () => t.close());

  const core = () => t.server.core;

  it('lets only the author edit, under the send text rules, and announces message.updated once', async () => {
    const chat = await core().createGroup(owner.id, { name: 'e', memberIds: [member.id] });
    const { message } = await core().sendMessage(member.id, { chatId: chat.id, text: 'helo' });
    await expect(core().editMessage(member.id, { chatId: chat.id, messageId: message.id }, '   ')).rejects.toMatchObject({ code: 'bad_request', reason: 'text_empty' });
    await expect(core().editMessage(member.id, { chatId: chat.id, messageId: message.id }, 'x'.repeat(11))).rejects.toMatchObject({ reason: 'text_too_long' });
    await expect(core().editMessage(member.id, { chatId: chat.id, messageId: message.id }, 7)).rejects.toMatchObject({ reason: 'text_not_string' });
    // Not even the owner edits someone else's message.
    await expect(core().editMessage(owner.id, { chatId: chat.id, messageId: message.id }, 'hijack')).rejects.toMatchObject({ code: 'forbidden', status: 403 });
    await expect(core().editMessage(outsider.id, { chatId: chat.id, messageId: message.id }, 'hijack')).rejects.toMatchObject({ code: 'forbidden' });
    const before = events.length;
    const edited = await core().editMessage(member.id, { chatId: chat.id, messageId: message.id }, 'hello');
    expect(edited).toMatchObject({ id: message.id, seq: message.seq, text: 'hello', deletedAt: null, changeSeq: 1 });
    expect(edited.editedAt).toEqual(expect.any(Number));
    const announced = await waitFor(() => events.slice(before).filter((e) => e.type === 'message.updated'));
    expect(announced).toHaveLength(1);
    expect(announced[0]).toMatchObject({ chatId: chat.id, chatType: 'group', message: { id: message.id, text: 'hello' }, sender: { id: member.id } });
    expect([...announced[0]!.memberIds].sort()).toEqual([owner.id, member.id].sort());
    // The chatless form (socketio) resolves the chat from the message.
    expect((await core().editMessage(member.id, { chatId: undefined, messageId: message.id }, 'hello!')).text).toBe('hello!');
  });

  it('lets the author delete, and in a group its owner and admins; a private chat only the author', async () => {
    const chat = await core().createGroup(owner.id, { name: 'd', memberIds: [member.id] });
    // No API names admins yet: the store makes one, the membership cache is told as a bus event would.
    await t.server.store.addMembers(chat.id, [admin.id], 'admin', Date.now());
    core().onEvent({ type: 'members.added', chatId: chat.id, chat, userIds: [admin.id], memberIds: [], actorId: owner.id });
    const send = async (who: TestUser, text: string) => (await core().sendMessage(who.id, { chatId: chat.id, text })).message;
    const byOwner = await send(owner, 'o');
    const byMember = await send(member, 'm1');
    const byMember2 = await send(member, 'm2');
    const byMember3 = await send(member, 'm3');
    await expect(core().deleteMessage(member.id, { chatId: chat.id, messageId: byOwner.id })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(core().deleteMessage(outsider.id, { chatId: chat.id, messageId: byMember.id })).rejects.toMatchObject({ code: 'forbidden' });
    const before = events.length;
    const tomb = await core().deleteMessage(member.id, { chatId: chat.id, messageId: byMember.id });
    expect(tomb).toMatchObject({ id: byMember.id, seq: byMember.seq, text: '' });
    expect((await core().deleteMessage(owner.id, { chatId: chat.id, messageId: byMember2.id })).text).toBe('');
    expect((await core().deleteMessage(admin.id, { chatId: chat.id, messageId: byMember3.id })).text).toBe('');
    const deleted = await waitFor(() => {
      const list = events.slice(before).filter((e) => e.type === 'message.deleted');
      return list.length === 3 && list;
    });
    expect(deleted.map((e) => (e as { actorId: string }).actorId)).toEqual([member.id, owner.id, admin.id]);
    // Deleted messages are 404 to every later edit and delete, also to the author.
    await expect(core().deleteMessage(member.id, { chatId: chat.id, messageId: byMember.id })).rejects.toMatchObject({ code: 'not_found', status: 404 });
    await expect(core().editMessage(member.id, { chatId: chat.id, messageId: byMember.id }, 'undo')).rejects.toMatchObject({ code: 'not_found' });
    // History keeps the tombstones in place.
    const history = await core().history(owner.id, chat.id, { limit: 10, offset: 0 });
    expect(history.map((m) => m.text)).toEqual(['o', '', '', '']);

    const { chat: priv } = await core().openPrivateChat(owner.id, member.id);
    const { message: theirs } = await core().sendMessage(member.id, { chatId: priv.id, text: 'p' });
    await expect(core().deleteMessage(owner.id, { chatId: priv.id, messageId: theirs.id })).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('answers 404 for unknown messages and messages of another chat; unknown chats 404 as usual', async () => {
    const a = await core().createGroup(owner.id, { name: 'a', memberIds: [] });
    const b = await core().createGroup(owner.id, { name: 'b', memberIds: [] });
    const { message } = await core().sendMessage(owner.id, { chatId: a.id, text: 'in a' });
    await expect(core().editMessage(owner.id, { chatId: b.id, messageId: message.id }, 'x')).rejects.toMatchObject({ code: 'not_found', message: 'Message not found' });
    await expect(core().deleteMessage(owner.id, { chatId: a.id, messageId: 987_654_321 })).rejects.toMatchObject({ code: 'not_found' });
    await expect(core().deleteMessage(owner.id, { chatId: undefined, messageId: 987_654_321 })).rejects.toMatchObject({ code: 'not_found' });
    await expect(core().editMessage(owner.id, { chatId: 987_654, messageId: message.id }, 'x')).rejects.toMatchObject({ code: 'not_found', message: 'Chat not found' });
  });

  it('serves catch-up after a cursor, members only', async () => {
    const chat = await core().createGroup(owner.id, { name: 'c', memberIds: [member.id] });
    const m1 = (await core().sendMessage(owner.id, { chatId: chat.id, text: 'one' })).message;
    const m2 = (await core().sendMessage(owner.id, { chatId: chat.id, text: 'two' })).message;
    await core().editMessage(owner.id, { chatId: chat.id, messageId: m1.id }, 'uno');
    await core().deleteMessage(owner.id, { chatId: chat.id, messageId: m2.id });
    const page = await core().changesAfter(member.id, chat.id, 0, 10);
    expect(page.changes.map((m) => [m.id, m.text, m.changeSeq])).toEqual([
      [m1.id, 'uno', 1],
      [m2.id, '', 2],
    ]);
    expect(page.cursor).toBe(2);
    expect(await core().changesAfter(member.id, chat.id, 2, 10)).toEqual({ changes: [], cursor: 2 });
    await expect(core().changesAfter(outsider.id, chat.id, 0, 10)).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('keeps search in step: an edit is found by its new words only, a delete by none', async () => {
    const chat = await core().createGroup(owner.id, { name: 's', memberIds: [member.id] });
    const { message } = await core().sendMessage(member.id, { chatId: chat.id, text: 'zebra' });
    const find = async (q: string) => (await core().searchMessages(owner.id, { q, limit: 10, offset: 0 })).map((m) => m.id);
    expect(await find('zebra')).toEqual([message.id]);
    await core().editMessage(member.id, { chatId: chat.id, messageId: message.id }, 'okapi');
    expect(await find('zebra')).toEqual([]);
    expect(await find('okapi')).toEqual([message.id]);
    await core().deleteMessage(member.id, { chatId: chat.id, messageId: message.id });
    expect(await find('okapi')).toEqual([]);
  });
});
