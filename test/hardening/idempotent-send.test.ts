import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StompTestClient } from '../api/stomp/stomp-clients.js';
import { connect as socketIoConnect } from '../api/socketio/socketio-client.js';
import { backends } from '../support/backends.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../support/test-server.js';
import { waitFor } from '../support/wait.js';
import { JsonSocket } from '../support/ws-client.js';

/**
 * Every dialect carries a client message id: the same id twice stores one message, answers the
 * same id, and fans out one event (the retrying connection alone gets its echo again).
 */
describe.each(backends)('idempotent send on %s', (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(backend);
  });
  afterAll(async () => t.close());

  let n = 0;
  const setup = async (): Promise<{ a: TestUser; b: TestUser; chatId: number; cid: string }> => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const chat = await t.server.core.createGroup(a.id, { name: `idem-${++n}`, memberIds: [b.id] });
    return { a, b, chatId: chat.id, cid: `cid-${n}-${Math.random().toString(36).slice(2)}` };
  };
  const stored = async (a: TestUser, chatId: number) => t.server.core.history(a.id, chatId, { limit: 50, offset: 0 });
  /** A marker through the core: once the other member has it, any second event would have come before it. */
  const marker = async (a: TestUser, chatId: number, text: string) => (await t.server.core.sendMessage(a.id, { chatId, text })).message;

  it('hub socket: data.client_msg_id; a retry re-echoes the original to the sending socket only', async () => {
    const { a, b, chatId, cid } = await setup();
    const sa = await JsonSocket.open(`${t.wsUrl}/api/v1/ws`, { token: a.token });
    const sb = await JsonSocket.open(`${t.wsUrl}/api/v1/ws`, { token: b.token });
    const frame = { type: 'message', data: { conversation_id: String(chatId), body: 'once', client_msg_id: cid } };
    sa.send(frame);
    const first = await sa.next((f) => f.type === 'message' && f.data.body === 'once');
    expect(first.data.client_msg_id).toBe(cid);
    sa.send(frame);
    const again = await sa.next((f) => f.type === 'message' && f.data.body === 'once');
    expect(again.data).toEqual(first.data);
    const m = await marker(a, chatId, 'marker');
    await sb.next((f) => f.type === 'message' && f.data.id === String(m.id));
    expect(sb.frames.filter((f) => f.type === 'message' && f.data.body === 'once')).toHaveLength(1);
    expect((await stored(a, chatId)).map((x) => x.text)).toEqual(['once', 'marker']);
    // A bad id type is an error event; the socket stays open.
    sa.send({ type: 'message', data: { conversation_id: String(chatId), body: 'x', client_msg_id: 5 } });
    expect((await sa.next((f) => f.type === 'error')).data.error).toMatch(/client_msg_id/);
    sa.close();
    sb.close();
  });

  it('hub REST: body client_msg_id; the retry answers the original message', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const body = { body: 'direct once', client_msg_id: 'rest-1' };
    const r1 = await api(t, a, 'POST', `/api/v1/chat/direct/${b.id}/send`, body);
    const r2 = await api(t, a, 'POST', `/api/v1/chat/direct/${b.id}/send`, body);
    expect(r1.status).toBe(200);
    expect(r2.status).toBe(200);
    expect(r2.body.message).toEqual(r1.body.message);
    expect(r1.body.message.client_msg_id).toBe('rest-1');
    const history = await api(t, a, 'GET', `/api/v1/chat/conversations/${r1.body.message.conversation_id}/messages`);
    expect(history.body.messages).toHaveLength(1);
  });

  it('rooms chat socket: frame client_msg_id', async () => {
    const { a, b, chatId, cid } = await setup();
    const sa = await JsonSocket.open(`${t.wsUrl}/api/v1/group/${chatId}`, { token: a.token });
    const sb = await JsonSocket.open(`${t.wsUrl}/api/v1/group/${chatId}`, { token: b.token });
    await sa.next((f) => f.type === 'history');
    await sb.next((f) => f.type === 'history');
    sa.send({ type: 'message', text: 'once', client_msg_id: cid });
    const first = await sa.next((f) => f.type === 'message' && f.text === 'once');
    expect(first.client_msg_id).toBe(cid);
    sa.send({ type: 'message', text: 'once', client_msg_id: cid });
    expect(await sa.next((f) => f.type === 'message' && f.text === 'once')).toEqual(first);
    const m = await marker(a, chatId, 'marker');
    await sb.next((f) => f.type === 'message' && f.id === m.id);
    expect(sb.frames.filter((f) => f.type === 'message' && f.text === 'once')).toHaveLength(1);
    expect((await stored(a, chatId)).map((x) => x.text)).toEqual(['once', 'marker']);
    sa.close();
    sb.close();
  });

  it('channels socket: frame client_msg_id', async () => {
    const { a, b, chatId, cid } = await setup();
    const sa = await JsonSocket.open(`${t.wsUrl}/ws/chat/${chatId}/?token=${a.token}`);
    const sb = await JsonSocket.open(`${t.wsUrl}/ws/chat/${chatId}/?token=${b.token}`);
    await sa.next((f) => f.type === 'connection_established');
    await sb.next((f) => f.type === 'connection_established');
    sa.send({ type: 'message', text: 'once', client_msg_id: cid });
    const first = await sa.next((f) => f.type === 'message' && f.data.text === 'once');
    expect(first.data.client_msg_id).toBe(cid);
    sa.send({ type: 'message', text: 'once', client_msg_id: cid });
    expect(await sa.next((f) => f.type === 'message' && f.data.text === 'once')).toEqual(first);
    const m = await marker(a, chatId, 'marker');
    await sb.next((f) => f.type === 'message' && f.data.id === m.id);
    expect(sb.frames.filter((f) => f.type === 'message' && f.data.text === 'once')).toHaveLength(1);
    expect((await stored(a, chatId)).map((x) => x.text)).toEqual(['once', 'marker']);
    sa.close();
    sb.close();
  });

  it('STOMP: sendMessage clientMessageId (WebSocket) and REST body clientMessageId', async () => {
    const { a, b, chatId, cid } = await setup();
    const ca = await StompTestClient.connect(t, a.token);
    const cb = await StompTestClient.connect(t, b.token);
    const topic = `/topic/chat/${chatId}`;
    await ca.subscribe(topic);
    await cb.subscribe(topic);
    const dest = `/app/chat/${chatId}/sendMessage`;
    await ca.sendWithReceipt(dest, { content: 'once', clientMessageId: cid });
    await ca.sendWithReceipt(dest, { content: 'once', clientMessageId: cid });
    const mine = await waitFor(() => {
      const got = ca.messages.filter((m) => m.destination === topic && m.body.type === 'MESSAGE' && m.body.payload.content === 'once');
      return got.length === 2 ? got : undefined;
    }, 5000, 'two MESSAGE frames for the sender');
    expect(mine[1]!.body.payload).toEqual(mine[0]!.body.payload);
    expect(mine[0]!.body.payload.clientMessageId).toBe(cid);
    const m = await marker(a, chatId, 'marker');
    await cb.next(topic, (x) => x.type === 'MESSAGE' && x.payload.id === String(m.id));
    expect(cb.messages.filter((x) => x.destination === topic && x.body.type === 'MESSAGE' && x.body.payload.content === 'once')).toHaveLength(1);

    const r1 = await api(t, a, 'POST', `/api/chats/${chatId}/messages`, { content: 'rest once', clientMessageId: `${cid}-rest` });
    const r2 = await api(t, a, 'POST', `/api/chats/${chatId}/messages`, { content: 'rest once', clientMessageId: `${cid}-rest` });
    expect(r1.status).toBe(201);
    expect(r2.status).toBe(200);
    expect(r2.body).toEqual(r1.body);
    expect((await stored(a, chatId)).map((x) => x.text)).toEqual(['once', 'marker', 'rest once']);
    await ca.client.deactivate();
    await cb.client.deactivate();
  });

  it('Socket.IO: send_message clientMsgId; the retry acks the original', async () => {
    const { a, b, chatId, cid } = await setup();
    const sa = await socketIoConnect(t, a.token);
    const sb = await socketIoConnect(t, b.token);
    await sb.call('join_chat', { chatId: String(chatId) });
    const r1 = await sa.call('send_message', { chatId: String(chatId), text: 'once', clientMsgId: cid });
    const r2 = await sa.call('send_message', { chatId: String(chatId), text: 'once', clientMsgId: cid });
    expect(r1.success).toBe(true);
    expect(r2).toEqual(r1);
    expect(r1.message.clientMsgId).toBe(cid);
    const m = await marker(a, chatId, 'marker');
    await sb.nextMessage((x) => x.id === String(m.id));
    expect(sb.received.filter((x) => x.text === 'once')).toHaveLength(1);
    expect((await stored(a, chatId)).map((x) => x.text)).toEqual(['once', 'marker']);
    const bad = await sa.call('send_message', { chatId: String(chatId), text: 'x', clientMsgId: 7 });
    expect(bad.success).toBe(false);
    sa.close();
    sb.close();
  });

  it('the same client id from another sender or in another chat is a different message', async () => {
    const { a, b, chatId } = await setup();
    const x = await t.server.core.sendMessage(a.id, { chatId, text: 'a', clientMsgId: 'shared' });
    const y = await t.server.core.sendMessage(b.id, { chatId, text: 'b', clientMsgId: 'shared' });
    const other = await t.server.core.createGroup(a.id, { name: 'other', memberIds: [] });
    const z = await t.server.core.sendMessage(a.id, { chatId: other.id, text: 'c', clientMsgId: 'shared' });
    expect(new Set([x.message.id, y.message.id, z.message.id]).size).toBe(3);
    expect([x.created, y.created, z.created]).toEqual([true, true, true]);
  });
});
