import { Client, type IFrame } from '@stomp/stompjs';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';
import { waitFor } from '../../support/wait.js';
import { JsonSocket } from '../../support/ws-client.js';
import { compileDocument, describedOn, type DescribedMessage, type ServedDocument } from './asyncapi-schemas.js';

/** One frame seen on the wire, with the channel (document key) it travelled on. */
interface Recorded {
  readonly channel: string;
  readonly action: 'send' | 'receive';
  readonly frameType: string;
  readonly payload: unknown;
  readonly headers?: Record<string, string>;
}

/**
 * Every dialect through its real client against a real server: each frame the server sent and
 * each frame the test sent is recorded, then validated against the served document's schemas;
 * every message the document describes must have been seen at least once (a new frame type
 * needs its entry in src/transports/asyncapi/ and a step here that makes the server send it).
 */
describe('recorded frames of every dialect validate against /asyncapi.json', () => {
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let group: number;
  let privateChat: number;
  let described: DescribedMessage[];
  const recorded: Recorded[] = [];
  const closers: (() => void)[] = [];

  const record = (r: Recorded): void => {
    recorded.push(r);
  };

  const jsonSockets: { socket: JsonSocket; channel: string }[] = [];
  /** A `ws` socket whose received frames (its own log, from the first one on) count as sent on `channel`. */
  const openJson = async (path: string, user: TestUser, channel: string): Promise<JsonSocket> => {
    const socket = await JsonSocket.open(`${t.wsUrl}${path}`, { token: user.token });
    jsonSockets.push({ socket, channel });
    closers.push(() => socket.close());
    return socket;
  };
  const allRecorded = (): Recorded[] => [
    ...recorded,
    ...jsonSockets.flatMap(({ socket, channel }) => socket.frames.map((payload: { type: string }): Recorded => ({ channel, action: 'send', frameType: payload.type, payload }))),
  ];
  const sendJson = (socket: JsonSocket, channel: string, payload: { type: string }): void => {
    record({ channel, action: 'receive', frameType: payload.type, payload });
    socket.send(payload);
  };
  const seen = (channel: string, frameType: string, count = 1): Promise<unknown> =>
    waitFor(() => allRecorded().filter((r) => r.channel === channel && r.action === 'send' && r.frameType === frameType).length >= count, 5000, `${channel} ${frameType}`);

  beforeAll(async () => {
    t = await startServer('sqlite', { coreOverrides: { typingTtlMs: 300, receiptFlushMs: 20 } });
    [alice, bob, carol] = [await registerUser(t), await registerUser(t), await registerUser(t)];
    const created = await api(t, alice, 'POST', '/api/chats', { type: 'group', name: 'Team', participantIds: [bob.id, carol.id] });
    expect(created.status).toBe(201);
    group = Number(created.body.id);
    privateChat = Number((await api(t, alice, 'POST', `/api/chats/personal/${bob.id}`)).body.id);
    const res = await fetch(`${t.url}/asyncapi.json`);
    described = compileDocument((await res.json()) as ServedDocument);
  });

  afterAll(async () => {
    for (const close of closers) close();
    await t?.close();
  });

  it('hub', async () => {
    const a = await openJson('/api/v1/ws', alice, 'hub');
    const b = await openJson('/api/v1/ws', bob, 'hub');
    await seen('hub', 'presence');
    b.close();
    await seen('hub', 'presence', 2);
    const b2 = await openJson('/api/v1/ws', bob, 'hub');
    sendJson(b2, 'hub', { type: 'message', data: { conversation_id: String(group), body: 'hi from hub', client_msg_id: 'hub-1' } } as never);
    sendJson(b2, 'hub', { type: 'typing', data: { conversation_id: String(group), is_typing: true } } as never);
    sendJson(b2, 'hub', { type: 'read', data: { conversation_id: String(group) } } as never);
    a.send('not json');
    await Promise.all([seen('hub', 'message', 2), seen('hub', 'typing'), seen('hub', 'read'), seen('hub', 'error')]);
    // Chat and membership changes.
    const core = t.server.core;
    const trip = await core.createGroup(alice.id, { name: 'Trip', memberIds: [bob.id] });
    await core.updateChat(alice.id, trip.id, { name: 'Trip 2' });
    await core.addMembers(alice.id, trip.id, [carol.id]);
    await core.removeMembers(alice.id, trip.id, [carol.id]);
    await core.deleteGroup(alice.id, trip.id);
    await Promise.all(['conversation_created', 'conversation_updated', 'members_added', 'members_removed', 'conversation_deleted'].map((type) => seen('hub', type)));
    const mine = (await api(t, bob, 'POST', `/api/chats/${group}/messages`, { content: 'hub edit me' })).body.id as string;
    expect((await api(t, bob, 'PATCH', `/api/v1/chat/conversations/${group}/messages/${mine}`, { body: 'hub edited' })).status).toBe(200);
    expect((await api(t, bob, 'DELETE', `/api/v1/chat/conversations/${group}/messages/${mine}`)).status).toBe(204);
    await Promise.all([seen('hub', 'message_updated'), seen('hub', 'message_deleted')]);
  });

  it('rooms', async () => {
    const a = await openJson(`/api/v1/group/${group}`, alice, 'roomsGroup');
    await openJson(`/api/v1/chat/${privateChat}`, alice, 'roomsChat');
    const main = await openJson('/api/v1/main', alice, 'roomsMain');
    const b = await openJson(`/api/v1/group/${group}`, bob, 'roomsGroup');
    const bPrivate = await openJson(`/api/v1/chat/${privateChat}`, bob, 'roomsChat');
    await Promise.all([seen('roomsGroup', 'history', 2), seen('roomsChat', 'history', 2)]);
    sendJson(b, 'roomsGroup', { type: 'message', text: 'hi from rooms', author: { id: 1, name: 'ignored' } } as never);
    sendJson(bPrivate, 'roomsChat', { type: 'message', text: 'psst', client_msg_id: 'rooms-1' } as never);
    sendJson(b, 'roomsGroup', { type: 'typing' });
    sendJson(bPrivate, 'roomsChat', { type: 'stop_typing' });
    a.send({ type: 'nope' });
    main.send({ type: 'message', text: 'main only receives' });
    await Promise.all([seen('roomsGroup', 'message'), seen('roomsChat', 'message'), seen('roomsMain', 'last_message', 2), seen('roomsGroup', 'typing'), seen('roomsChat', 'stop_typing'), seen('roomsGroup', 'error'), seen('roomsMain', 'error')]);
    const mine = (await t.server.core.sendMessage(bob.id, { chatId: group, text: 'rooms edit me' })).message.id;
    sendJson(b, 'roomsGroup', { type: 'edit', id: mine, text: 'rooms edited' } as never);
    await seen('roomsGroup', 'edited');
    sendJson(b, 'roomsGroup', { type: 'delete', id: mine } as never);
    await seen('roomsGroup', 'deleted');
    // A late socket's history shows the edit and the tombstone.
    await openJson(`/api/v1/group/${group}`, alice, 'roomsGroup');
    await seen('roomsGroup', 'history', 3);
  });

  it('channels', async () => {
    const a = await openJson(`/ws/chat/${group}/`, alice, 'channelsChat');
    const b = await openJson(`/ws/chat/${group}/`, bob, 'channelsChat');
    await seen('channelsChat', 'connection_established', 2);
    sendJson(b, 'channelsChat', { type: 'message', text: 'hi from channels', client_msg_id: 'ch-1' } as never);
    sendJson(b, 'channelsChat', { type: 'typing', is_typing: true } as never);
    sendJson(b, 'channelsChat', { type: 'read_messages' });
    a.send('{not json');
    await Promise.all([seen('channelsChat', 'message', 2), seen('channelsChat', 'typing'), seen('channelsChat', 'messages_read', 2), seen('channelsChat', 'error')]);
    const mine = (await t.server.core.sendMessage(bob.id, { chatId: group, text: 'channels edit me' })).message.id;
    sendJson(b, 'channelsChat', { type: 'edit_message', message_id: mine, text: 'channels edited' } as never);
    await seen('channelsChat', 'message_updated', 2);
    sendJson(b, 'channelsChat', { type: 'delete_message', message_id: mine } as never);
    await seen('channelsChat', 'message_deleted', 2);
    sendJson(b, 'channelsChat', { type: 'get_changes', after: 0 } as never);
    await seen('channelsChat', 'changes');
  });

  it('stomp', async () => {
    const connect = async (user: TestUser | null): Promise<Client> => {
      const client = new Client({
        webSocketFactory: () => {
          const ws = new WebSocket(`${t.wsUrl}/ws-chat`, ['v12.stomp']);
          // What the client really writes: each outgoing STOMP frame is recorded as sent.
          const send = ws.send.bind(ws);
          ws.send = ((data: string, ...rest: never[]) => {
            if (typeof data === 'string') for (const text of data.split('\0')) recordClientFrame(text);
            return send(data, ...rest);
          }) as typeof ws.send;
          return ws;
        },
        connectHeaders: user ? { Authorization: `Bearer ${user.token}` } : {},
        reconnectDelay: 0,
        debug: () => {},
      });
      closers.push(() => void client.deactivate());
      const frame = (command: string, f: IFrame): void => record({ channel: 'stompSession', action: 'send', frameType: command, payload: f.body, headers: f.headers });
      await new Promise<void>((resolve) => {
        client.onConnect = (f) => {
          frame('CONNECTED', f);
          resolve();
        };
        client.onStompError = (f) => {
          frame('ERROR', f);
          resolve();
        };
        client.activate();
      });
      client.onStompError = (f) => frame('ERROR', f);
      return client;
    };
    /** A STOMP frame the client wrote: SEND by its /app destination's action, any other by its command. */
    function recordClientFrame(text: string): void {
      const frame = text.replace(/^\n+/, '');
      if (frame === '') return;
      const [head, ...bodyParts] = frame.split('\n\n');
      const [command, ...lines] = head!.split('\n');
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]));
      const body = bodyParts.join('\n\n');
      if (command === 'SEND') {
        const action = /\/app\/chat\/[^/]+\/(\w+)$/.exec(headers['destination'] ?? '')?.[1] ?? '?';
        const channel = { sendMessage: 'stompSendMessage', typing: 'stompTyping', loadHistory: 'stompLoadHistory', editMessage: 'stompEditMessage', deleteMessage: 'stompDeleteMessage' }[action] ?? '?';
        record({ channel, action: 'receive', frameType: action, payload: JSON.parse(body) });
      } else {
        record({ channel: 'stompSession', action: 'receive', frameType: command!, payload: body, headers });
      }
    }
    const subscribe = async (client: Client, destination: string, channel: string): Promise<void> => {
      const receipt = `r-${destination}`;
      const done = new Promise<void>((resolve) =>
        client.watchForReceipt(receipt, (f) => {
          record({ channel: 'stompSession', action: 'send', frameType: 'RECEIPT', payload: f.body, headers: f.headers });
          resolve();
        }),
      );
      client.subscribe(destination, (m) => {
        const payload = JSON.parse(m.body) as { type: string };
        record({ channel, action: 'send', frameType: payload.type, payload, headers: m.headers });
      }, { receipt, id: `sub-${destination}` });
      await done;
    };
    const send = (client: Client, action: string, payload: unknown): void => {
      client.publish({ destination: `/app/chat/${group}/${action}`, body: JSON.stringify(payload) });
    };

    const a = await connect(alice);
    await subscribe(a, `/topic/chat/${group}`, 'stompTopicChat');
    await subscribe(a, '/user/queue/notifications', 'stompUserNotifications');
    await subscribe(a, '/user/queue/history', 'stompUserHistory');
    const b = await connect(bob);
    send(b, 'sendMessage', { content: 'hi from stomp', clientMessageId: 'st-1' });
    send(b, 'typing', true);
    send(a, 'loadHistory', { offset: 0, limit: 10, beforeMessageId: null });
    const editable = (await t.server.core.sendMessage(bob.id, { chatId: group, text: 'stomp edit me' })).message.id;
    send(b, 'editMessage', { messageId: editable, content: 'stomp edited' });
    send(b, 'deleteMessage', { messageId: String(editable) });
    // Carol's first and last connection: presence on the chat's topic.
    const c = await connect(carol);
    await seen('stompTopicChat', 'USER_ONLINE');
    c.unsubscribe('none');
    await c.deactivate();
    // Bob adds Alice to a new chat: NEW_CHAT on her notifications.
    expect((await api(t, bob, 'POST', '/api/chats', { type: 'group', name: 'Side', participantIds: [alice.id] })).status).toBe(201);
    await connect(null);
    await Promise.all([
      seen('stompTopicChat', 'MESSAGE'),
      seen('stompTopicChat', 'TYPING'),
      seen('stompTopicChat', 'MESSAGE_UPDATED'),
      seen('stompTopicChat', 'MESSAGE_DELETED'),
      seen('stompTopicChat', 'MESSAGE_DELIVERED'),
      seen('stompTopicChat', 'USER_OFFLINE'),
      seen('stompUserNotifications', 'NEW_MESSAGE'),
      seen('stompUserNotifications', 'NEW_CHAT'),
      seen('stompUserHistory', 'HISTORY'),
      seen('stompSession', 'ERROR'),
    ]);
  });

  it('socketio', async () => {
    const open = (token: string): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = io(t.url, { auth: { token }, transports: ['websocket'], forceNew: true, reconnection: false });
        closers.push(() => socket.close());
        socket.once('connect', () => resolve(socket));
        socket.once('connect_error', (err: Error & { data?: unknown }) => {
          record({ channel: 'socketio', action: 'send', frameType: 'connect_error', payload: { message: err.message, data: err.data } });
          reject(err);
        });
      });
    /** `invalid`: a payload the document does not allow, sent for its error answer. */
    const call = async (socket: Socket, event: string, payload?: unknown, invalid = false): Promise<unknown> => {
      if (!invalid) record({ channel: 'socketio', action: 'receive', frameType: event, payload: payload ?? {} });
      const answer: unknown = payload === undefined ? await socket.timeout(5000).emitWithAck(event) : await socket.timeout(5000).emitWithAck(event, payload);
      record({ channel: 'socketio', action: 'send', frameType: `ack:${event}`, payload: answer });
      return answer;
    };
    await expect(open('not-a-token')).rejects.toThrow('Unauthorized');
    const a = await open(alice.token);
    a.on('new_message', (m: unknown) => record({ channel: 'socketio', action: 'send', frameType: 'new_message', payload: m }));
    const b = await open(bob.token);
    expect(await call(a, 'join_chat', { chatId: String(group) })).toMatchObject({ success: true });
    expect(await call(b, 'send_message', { chatId: group, text: 'hi from socket.io', clientMsgId: 'io-1' })).toMatchObject({ success: true });
    await seen('socketio', 'new_message');
    expect(await call(a, 'get_chat_messages', { chatId: String(group), limit: 5 })).toMatchObject({ success: true });
    expect(await call(a, 'get_my_chats')).toMatchObject({ success: true });
    a.on('message_updated', (m: unknown) => record({ channel: 'socketio', action: 'send', frameType: 'message_updated', payload: m }));
    a.on('message_deleted', (m: unknown) => record({ channel: 'socketio', action: 'send', frameType: 'message_deleted', payload: m }));
    const sent = (await call(b, 'send_message', { chatId: group, text: 'socket.io edit me' })) as { message: { id: string } };
    expect(await call(b, 'edit_message', { messageId: sent.message.id, text: 'socket.io edited' })).toMatchObject({ success: true });
    expect(await call(b, 'delete_message', { messageId: sent.message.id })).toMatchObject({ success: true });
    expect(await call(a, 'get_chat_changes', { chatId: String(group), after: 0 })).toMatchObject({ success: true });
    await Promise.all([seen('socketio', 'message_updated'), seen('socketio', 'message_deleted')]);
    expect(await call(a, 'search_messages', { q: 'socket.io', limit: 5 })).toMatchObject({ success: true, messages: [expect.objectContaining({ text: 'hi from socket.io' })] });
    expect(await call(a, 'leave_chat', { chatId: String(group) })).toMatchObject({ success: true });
    expect(await call(a, 'join_chat', { chatId: 999_999 })).toMatchObject({ success: false, code: 'forbidden' });
    expect(await call(a, 'send_message', { chatId: 'x', text: 'bad id' }, true)).toMatchObject({ success: false, code: 'bad_request' });
  });

  it('every recorded frame matches its message in the document', () => {
    const failures: string[] = [];
    for (const r of allRecorded()) {
      const message = describedOn(described, r.channel, r.action, r.frameType);
      if (!message) {
        failures.push(`${r.channel} ${r.action} ${r.frameType}: not described`);
        continue;
      }
      if (!message.payload(r.payload)) failures.push(`${message.name} payload ${JSON.stringify(r.payload).slice(0, 300)}: ${JSON.stringify(message.payload.errors)}`);
      if (message.headers && r.headers && !message.headers(r.headers)) failures.push(`${message.name} headers ${JSON.stringify(r.headers)}: ${JSON.stringify(message.headers.errors)}`);
    }
    expect(failures).toEqual([]);
  });

  it('every message the document describes was seen on the wire', () => {
    const missing = [...new Set(described.map((m) => m.name))].filter((name) => {
      const message = described.find((m) => m.name === name)!;
      return !allRecorded().some((r) => r.action === message.action && r.frameType === message.frameType && described.some((d) => d.name === name && d.channel === r.channel));
    });
    expect(missing).toEqual([]);
  });
});
