import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';
import type { JsonSocket } from '../../support/ws-client.js';
import { roomsSocket } from './rooms-helpers.js';

/** Issue 18 on the rooms wire: edit/delete frames on a chat socket, `edited`/`deleted` Message models, history. */
describe.each(backends)('rooms edit and delete on %s', (backend) => {
  let t: TestServer;
  const open: JsonSocket[] = [];

  beforeAll(async () => {
    t = await startServer(backend, { env: { MAX_MESSAGE_LENGTH: '20' } });
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await t.close();
  });

  const groupSocket = async (user: TestUser, chatId: number): Promise<JsonSocket> => {
    const s = await roomsSocket(t, `/api/v1/group/${chatId}`, user);
    open.push(s);
    await s.next((f) => f.type === 'history');
    return s;
  };
  const group = async () => {
    const [owner, member] = [await registerUser(t), await registerUser(t)];
    const chat = await t.server.core.createGroup(owner.id, { name: 'R', memberIds: [member.id] });
    return { owner, member, chatId: chat.id };
  };

  it('edit: every socket of the chat gets the Message model with type edited', async () => {
    const { owner, member, chatId } = await group();
    const [a, a2, b] = [await groupSocket(owner, chatId), await groupSocket(owner, chatId), await groupSocket(member, chatId)];
    a.send({ type: 'message', text: 'helo' });
    const sent = await b.next((f) => f.type === 'message' && f.text === 'helo');
    a.send({ type: 'edit', id: sent.id, text: 'hello' });
    for (const s of [a, a2, b]) {
      const f = await s.next((x) => x.type === 'edited');
      expect(f).toEqual({ id: sent.id, chat_id: chatId, type: 'edited', text: 'hello', author: sent.author, time: sent.time, edited: true });
    }
  });

  it('delete: type deleted with text "", and history on connect shows current text and the tombstone', async () => {
    const { owner, member, chatId } = await group();
    const [a, b] = [await groupSocket(owner, chatId), await groupSocket(member, chatId)];
    b.send({ type: 'message', text: 'first' });
    const first = await a.next((f) => f.type === 'message' && f.text === 'first');
    b.send({ type: 'message', text: 'secnd' });
    const second = await a.next((f) => f.type === 'message' && f.text === 'secnd');
    b.send({ type: 'edit', id: second.id, text: 'second' });
    await a.next((f) => f.type === 'edited');
    // The group owner deletes a member's message.
    a.send({ type: 'delete', id: first.id });
    for (const s of [a, b]) {
      expect(await s.next((x) => x.type === 'deleted')).toEqual({ id: first.id, chat_id: chatId, type: 'deleted', text: '', author: first.author, time: first.time });
    }
    const late = await roomsSocket(t, `/api/v1/group/${chatId}`, member);
    open.push(late);
    const history = await late.next((f) => f.type === 'history');
    expect(history.messages.map((m: any) => [m.id, m.type, m.text, m.edited ?? false])).toEqual([
      [first.id, 'deleted', '', false],
      [second.id, 'message', 'second', true],
    ]);
  });

  it('refuses bad edits and deletes with the seed\'s error frame; the socket stays open', async () => {
    const { owner, member, chatId } = await group();
    const [a, b] = [await groupSocket(owner, chatId), await groupSocket(member, chatId)];
    a.send({ type: 'message', text: 'owners' });
    const sent = await b.next((f) => f.type === 'message' && f.text === 'owners');
    b.send({ type: 'edit', id: sent.id, text: 'mine' });
    expect(await b.next((f) => f.type === 'error')).toEqual({ type: 'error', error: 'Only the author can edit a message' });
    b.send({ type: 'delete', id: sent.id });
    expect(await b.next((f) => f.type === 'error')).toEqual({ type: 'error', error: 'Only the author or a group owner/admin can delete a message' });
    a.send({ type: 'edit', id: 987654321, text: 'x' });
    expect(await a.next((f) => f.type === 'error')).toEqual({ type: 'error', error: 'Message not found' });
    a.send({ type: 'edit', id: sent.id, text: '' });
    expect(await a.next((f) => f.type === 'error')).toEqual({ type: 'error', error: 'Message text cannot be empty' });
    a.send({ type: 'delete' });
    expect(await a.next((f) => f.type === 'error')).toEqual({ type: 'error', error: 'id must be a positive integer' });
    a.send({ type: 'delete', id: sent.id });
    await b.next((f) => f.type === 'deleted');
    a.send({ type: 'delete', id: sent.id });
    expect(await a.next((f) => f.type === 'error')).toEqual({ type: 'error', error: 'Message not found' });
    expect(a.closeCode).toBeNull();
  });
});
