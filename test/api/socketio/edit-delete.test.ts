import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';
import { waitFor } from '../../support/wait.js';
import { connect, type TestSocket } from './socketio-client.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Issue 18 on the socketio wire: edit_message / delete_message acks, events to joined sockets, get_chat_changes. */
describe.each(backends)('socketio edit and delete on %s', (backend) => {
  let t: TestServer;
  const open: TestSocket[] = [];

  beforeAll(async () => {
    t = await startServer(backend, { env: { MAX_MESSAGE_LENGTH: '20' } });
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await t.close();
  });

  const socketOf = async (user: TestUser): Promise<TestSocket & { events: { name: string; payload: any }[] }> => {
    const s = await connect(t, user.token);
    open.push(s);
    const events: { name: string; payload: any }[] = [];
    for (const name of ['message_updated', 'message_deleted']) s.socket.on(name, (payload: unknown) => events.push({ name, payload }));
    return Object.assign(s, { events });
  };
  const group = async () => {
    const [owner, member] = [await registerUser(t), await registerUser(t)];
    const chat = await t.server.core.createGroup(owner.id, { name: 'S', memberIds: [member.id] });
    return { owner, member, chatId: String(chat.id) };
  };

  it('edit_message acks {success, message} and emits message_updated to the sockets that joined the chat', async () => {
    const { owner, member, chatId } = await group();
    const [a, b, idle] = [await socketOf(owner), await socketOf(member), await socketOf(member)];
    await a.call('join_chat', { chatId });
    await b.call('join_chat', { chatId });
    const sent = await a.call('send_message', { chatId, text: 'helo' });
    const ack = await a.call('edit_message', { messageId: sent.message.id, text: 'hello' });
    expect(ack).toEqual({ success: true, message: { ...sent.message, text: 'hello', editedAt: expect.stringMatching(ISO), changeSeq: 1 } });
    for (const s of [a, b]) {
      const e = await waitFor(() => s.events.find((x) => x.name === 'message_updated'), 5000, 'message_updated');
      expect(e.payload).toEqual(ack.message);
    }
    // A socket that never joined the chat hears nothing.
    await new Promise((r) => setTimeout(r, 200));
    expect(idle.events).toEqual([]);
  });

  it('delete_message acks {success} and emits message_deleted {id, chatId}; join_chat then shows the tombstone', async () => {
    const { owner, member, chatId } = await group();
    const [a, b] = [await socketOf(owner), await socketOf(member)];
    await a.call('join_chat', { chatId });
    await b.call('join_chat', { chatId });
    const sent = await b.call('send_message', { chatId, text: 'oops' });
    // The group owner moderates.
    expect(await a.call('delete_message', { messageId: sent.message.id })).toEqual({ success: true });
    for (const s of [a, b]) {
      const e = await waitFor(() => s.events.find((x) => x.name === 'message_deleted'), 5000, 'message_deleted');
      expect(e.payload).toEqual({ id: sent.message.id, chatId, changeSeq: 1 });
    }
    const joined = await b.call('join_chat', { chatId });
    expect(joined.messages).toEqual([expect.objectContaining({ id: sent.message.id, text: '', deletedAt: expect.stringMatching(ISO) })]);
  });

  it('refuses in the ack: someone else\'s 403, unknown or deleted 404, text rules 400, foreign chat no access', async () => {
    const { owner, member, chatId } = await group();
    const outsider = await registerUser(t);
    const [a, b, o] = [await socketOf(owner), await socketOf(member), await socketOf(outsider)];
    const sent = await a.call('send_message', { chatId, text: 'owner' });
    expect(await b.call('edit_message', { messageId: sent.message.id, text: 'x' })).toEqual({ success: false, error: 'Only the author can edit a message', code: 'forbidden' });
    expect(await b.call('delete_message', { messageId: sent.message.id })).toMatchObject({ success: false, code: 'forbidden' });
    expect(await a.call('edit_message', { messageId: '987654321', text: 'x' })).toEqual({ success: false, error: 'Message not found', code: 'not_found' });
    expect(await a.call('edit_message', { messageId: sent.message.id, text: ' ' })).toMatchObject({ success: false, code: 'bad_request' });
    expect(await a.call('edit_message', { messageId: sent.message.id, text: 'x'.repeat(21) })).toMatchObject({ success: false, error: 'Message text exceeds 20 characters' });
    expect(await a.call('delete_message', {})).toMatchObject({ success: false, code: 'bad_request' });
    expect(await o.call('delete_message', { messageId: sent.message.id })).toMatchObject({ success: false, code: 'forbidden' });
    expect(await a.call('delete_message', { messageId: sent.message.id })).toEqual({ success: true });
    expect(await a.call('delete_message', { messageId: sent.message.id })).toMatchObject({ success: false, code: 'not_found' });
  });

  it('catches up with get_chat_changes after a cursor', async () => {
    const { owner, member, chatId } = await group();
    const a = await socketOf(owner);
    const m1 = await a.call('send_message', { chatId, text: 'one' });
    const m2 = await a.call('send_message', { chatId, text: 'two' });
    await a.call('edit_message', { messageId: m1.message.id, text: 'uno' });
    await a.call('delete_message', { messageId: m2.message.id });
    const b = await socketOf(member);
    const page = await b.call('get_chat_changes', { chatId, after: 0 });
    expect(page.success).toBe(true);
    expect(page.cursor).toBe(2);
    expect(page.changes.map((m: any) => [m.id, m.text, m.changeSeq])).toEqual([
      [m1.message.id, 'uno', 1],
      [m2.message.id, '', 2],
    ]);
    expect(await b.call('get_chat_changes', { chatId, after: 2 })).toEqual({ success: true, changes: [], cursor: 2 });
  });
});
