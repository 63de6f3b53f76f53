import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StompTestClient } from './stomp/stomp-clients.js';
import { connect as socketIo, type TestSocket } from './socketio/socketio-client.js';
import { backends } from '../support/backends.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../support/test-server.js';
import { waitFor } from '../support/wait.js';
import { JsonSocket } from '../support/ws-client.js';

/**
 * One change, every dialect: the author edits (then deletes) over each dialect in turn, and a
 * reader connected over all five at once sees each change live, in each dialect's own shape.
 */
describe.each(backends)('edit and delete across dialects on %s', (backend) => {
  let t: TestServer;
  let alice: TestUser, bob: TestUser;
  let chatId: number;
  const cleanup: (() => unknown)[] = [];

  beforeAll(async () => {
    t = await startServer(backend);
    [alice, bob] = [await registerUser(t), await registerUser(t)];
    chatId = (await t.server.core.createGroup(alice.id, { name: 'X', memberIds: [bob.id] })).id;
  });
  afterAll(async () => {
    for (const c of cleanup) await c();
    await t.close();
  });

  /** Bob over all five dialects; `seen` tells whether each saw the change as its wire shows it. */
  async function reader() {
    const hub = await JsonSocket.open(`${t.wsUrl}/api/v1/ws`, { token: bob.token });
    const channels = await JsonSocket.open(`${t.wsUrl}/ws/chat/${chatId}/?token=${encodeURIComponent(bob.token)}`);
    await channels.next((f) => f.type === 'connection_established');
    const rooms = await JsonSocket.open(`${t.wsUrl}/api/v1/group/${chatId}`, { token: bob.token });
    await rooms.next((f) => f.type === 'history');
    const stomp = await StompTestClient.connect(t, bob.token);
    await stomp.subscribe(`/topic/chat/${chatId}`);
    const sio: TestSocket = await socketIo(t, bob.token);
    const sioEvents: { name: string; payload: any }[] = [];
    for (const name of ['message_updated', 'message_deleted']) sio.socket.on(name, (p: unknown) => sioEvents.push({ name, payload: p }));
    await sio.call('join_chat', { chatId: String(chatId) });
    cleanup.push(() => hub.close(), () => channels.close(), () => rooms.close(), () => stomp.close(), () => sio.close());
    return {
      async sawEdit(id: number, text: string) {
        await hub.next((f) => f.type === 'message_updated' && f.data.id === String(id) && f.data.body === text);
        await channels.next((f) => f.type === 'message_updated' && f.data.id === id && f.data.text === text && f.data.is_edited === true);
        await rooms.next((f) => f.type === 'edited' && f.id === id && f.text === text);
        await stomp.next(`/topic/chat/${chatId}`, (b) => b.type === 'MESSAGE_UPDATED' && b.payload.id === String(id) && b.payload.content === text);
        await waitFor(() => sioEvents.find((e) => e.name === 'message_updated' && e.payload.id === String(id) && e.payload.text === text), 5000, 'socketio message_updated');
      },
      async sawDelete(id: number) {
        await hub.next((f) => f.type === 'message_deleted' && f.data.id === String(id));
        await channels.next((f) => f.type === 'message_deleted' && f.data.id === id && f.data.is_deleted === true);
        await rooms.next((f) => f.type === 'deleted' && f.id === id && f.text === '');
        await stomp.next(`/topic/chat/${chatId}`, (b) => b.type === 'MESSAGE_DELETED' && b.payload.messageId === String(id));
        await waitFor(() => sioEvents.find((e) => e.name === 'message_deleted' && e.payload.id === String(id)), 5000, 'socketio message_deleted');
      },
    };
  }

  it('an edit or delete over any one dialect reaches the other four (and its own) live', async () => {
    const bobSees = await reader();
    const { message } = await t.server.core.sendMessage(alice.id, { chatId, text: 'v0' });
    const id = message.id;

    expect((await api(t, alice, 'PATCH', `/api/v1/chat/conversations/${chatId}/messages/${id}`, { body: 'via hub' })).status).toBe(200);
    await bobSees.sawEdit(id, 'via hub');

    expect((await api(t, alice, 'PUT', `/api/chats/${chatId}/messages/${id}`, { content: 'via stomp rest' })).status).toBe(200);
    await bobSees.sawEdit(id, 'via stomp rest');

    const stomp = await StompTestClient.connect(t, alice.token);
    cleanup.push(() => stomp.close());
    await stomp.sendWithReceipt(`/app/chat/${chatId}/editMessage`, { messageId: id, content: 'via stomp' });
    await bobSees.sawEdit(id, 'via stomp');

    const channels = await JsonSocket.open(`${t.wsUrl}/ws/chat/${chatId}/?token=${encodeURIComponent(alice.token)}`);
    cleanup.push(() => channels.close());
    await channels.next((f) => f.type === 'connection_established');
    channels.send({ type: 'edit_message', message_id: id, text: 'via channels' });
    await bobSees.sawEdit(id, 'via channels');

    const rooms = await JsonSocket.open(`${t.wsUrl}/api/v1/group/${chatId}`, { token: alice.token });
    cleanup.push(() => rooms.close());
    await rooms.next((f) => f.type === 'history');
    rooms.send({ type: 'edit', id, text: 'via rooms' });
    await bobSees.sawEdit(id, 'via rooms');

    const sio = await socketIo(t, alice.token);
    cleanup.push(() => sio.close());
    expect(await sio.call('edit_message', { messageId: String(id), text: 'via socketio' })).toMatchObject({ success: true });
    await bobSees.sawEdit(id, 'via socketio');

    // Deletes, one per dialect, each on its own message.
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await t.server.core.sendMessage(alice.id, { chatId, text: `d${i}` })).message.id);
    expect((await api(t, alice, 'DELETE', `/api/v1/chat/conversations/${chatId}/messages/${ids[0]}`)).status).toBe(204);
    await bobSees.sawDelete(ids[0]!);
    await stomp.sendWithReceipt(`/app/chat/${chatId}/deleteMessage`, { messageId: ids[1] });
    await bobSees.sawDelete(ids[1]!);
    channels.send({ type: 'delete_message', message_id: ids[2] });
    await bobSees.sawDelete(ids[2]!);
    rooms.send({ type: 'delete', id: ids[3] });
    await bobSees.sawDelete(ids[3]!);
    expect(await sio.call('delete_message', { messageId: ids[4] })).toEqual({ success: true });
    await bobSees.sawDelete(ids[4]!);

    // Six edits and five deletes: eleven changes, one cursor each, all in the catch-up.
    const page = await t.server.core.changesAfter(bob.id, chatId, 0, 100);
    expect(page.cursor).toBe(11);
    expect(page.changes.map((m) => m.id)).toEqual([id, ...ids]);
  });
});
