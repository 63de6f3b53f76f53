import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { startServer, type TestServer } from '../../support/test-server.js';
import type { JsonSocket } from '../../support/ws-client.js';
import { connect, isError, isMessage, makeGroup, makeUser } from './helpers.js';

/** Issue 18 on the channels wire: edit_message / delete_message frames, their events, get_changes. */
describe.each(backends)('channels edit and delete on %s', (backend) => {
  let t: TestServer;
  const open: JsonSocket[] = [];

  beforeAll(async () => {
    t = await startServer(backend, { env: { MAX_MESSAGE_LENGTH: '20' } });
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await t.close();
  });
  const join = async (...args: Parameters<typeof connect>) => {
    const s = await connect(...args);
    open.push(s);
    return s;
  };

  it('edits: message_updated with the message model (is_edited true) to everyone in the chat', async () => {
    const [alice, bob] = [await makeUser(t), await makeUser(t)];
    const chatId = await makeGroup(t, alice, [bob]);
    const [a, b] = [await join(t, chatId, alice), await join(t, chatId, bob)];
    a.send({ type: 'message', text: 'helo' });
    const sent = await b.next(isMessage('helo'));
    expect(sent.data).toMatchObject({ is_edited: false, is_deleted: false });
    a.send({ type: 'edit_message', message_id: sent.data.id, text: 'hello' });
    for (const s of [a, b]) {
      const f = await s.next((x) => x.type === 'message_updated');
      expect(f).toEqual({
        type: 'message_updated',
        data: {
          id: sent.data.id,
          text: 'hello',
          sender: { id: Number(alice.id), username: alice.username, first_name: '', last_name: '' },
          timestamp: sent.data.timestamp,
          is_edited: true,
          is_deleted: false,
          change_seq: 1,
        },
      });
    }
  });

  it('refuses bad edits and deletes with an error frame and keeps the socket open', async () => {
    const [alice, bob] = [await makeUser(t), await makeUser(t)];
    const chatId = await makeGroup(t, alice, [bob]);
    const [a, b] = [await join(t, chatId, alice), await join(t, chatId, bob)];
    a.send({ type: 'message', text: 'mine' });
    const sent = await b.next(isMessage('mine'));
    b.send({ type: 'edit_message', message_id: sent.data.id, text: 'theirs' });
    await b.next(isError('Only the author can edit a message'));
    b.send({ type: 'delete_message', message_id: sent.data.id });
    await b.next(isError('Only the author or a group owner/admin can delete a message'));
    a.send({ type: 'edit_message', message_id: 987654321, text: 'x' });
    await a.next(isError('Message not found'));
    a.send({ type: 'edit_message', message_id: sent.data.id, text: '   ' });
    await a.next(isError('Message text cannot be empty'));
    a.send({ type: 'edit_message', message_id: sent.data.id, text: 'x'.repeat(21) });
    await a.next(isError('Message text exceeds 20 characters'));
    a.send({ type: 'delete_message', message_id: 'abc' });
    await a.next(isError('message_id must be a positive integer'));
    // A message of another chat is unknown here.
    const otherChat = await makeGroup(t, alice, []);
    const elsewhere = (await t.server.core.sendMessage(alice.id, { chatId: otherChat, text: 'elsewhere' })).message;
    a.send({ type: 'delete_message', message_id: elsewhere.id });
    await a.next(isError('Message not found'));
    // Still open: a normal send goes through.
    b.send({ type: 'message', text: 'still here' });
    await a.next(isMessage('still here'));
    expect(a.closeCode).toBeNull();
    expect(b.closeCode).toBeNull();
  });

  it('deletes: message_deleted {id, is_deleted} to everyone; the group owner may delete others\' messages', async () => {
    const [owner, bob] = [await makeUser(t), await makeUser(t)];
    const chatId = await makeGroup(t, owner, [bob]);
    const [o, b] = [await join(t, chatId, owner), await join(t, chatId, bob)];
    b.send({ type: 'message', text: 'oops' });
    const sent = await o.next(isMessage('oops'));
    o.send({ type: 'delete_message', message_id: sent.data.id });
    for (const s of [o, b]) expect(await s.next((x) => x.type === 'message_deleted')).toEqual({ type: 'message_deleted', data: { id: sent.data.id, is_deleted: true, change_seq: 1 } });
    b.send({ type: 'edit_message', message_id: sent.data.id, text: 'undo' });
    await b.next(isError('Message not found'));
    const stored = await t.server.core.history(owner.id, chatId, { limit: 10, offset: 0 });
    expect(stored.map((m) => [m.id, m.text])).toEqual([[sent.data.id, '']]);
  });

  it('catches up with get_changes after a cursor', async () => {
    const [alice, bob] = [await makeUser(t), await makeUser(t)];
    const chatId = await makeGroup(t, alice, [bob]);
    const m1 = (await t.server.core.sendMessage(alice.id, { chatId, text: 'one' })).message;
    const m2 = (await t.server.core.sendMessage(alice.id, { chatId, text: 'two' })).message;
    // bob is away while both change.
    await t.server.core.editMessage(alice.id, { chatId, messageId: m1.id }, 'uno');
    await t.server.core.deleteMessage(alice.id, { chatId, messageId: m2.id });
    const b = await join(t, chatId, bob);
    b.send({ type: 'get_changes', after: 0 });
    const page = await b.next((x) => x.type === 'changes');
    expect(page.cursor).toBe(2);
    expect(page.data.map((m: any) => [m.id, m.text, m.is_edited, m.is_deleted, m.change_seq])).toEqual([
      [m1.id, 'uno', true, false, 1],
      [m2.id, '', false, true, 2],
    ]);
    b.send({ type: 'get_changes', after: 2 });
    expect(await b.next((x) => x.type === 'changes')).toEqual({ type: 'changes', data: [], cursor: 2 });
    b.send({ type: 'get_changes', after: 'x' });
    await b.next(isError('after must be a non-negative integer'));
  });
});
