import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { backends } from '../../support/backends.js';
import { startServer, type TestServer } from '../../support/test-server.js';
import { waitFor } from '../../support/wait.js';
import { makeGroup, makeUser, type ChannelsUser } from './helpers.js';

/**
 * The seed's own `ChatWebSocket` class, kept line for line except: `ws` stands in for the
 * browser's WebSocket, the token travels as `?token=` (a browser cannot set headers on a
 * WebSocket), the base URL is the test server's, and the console lines are recorded.
 */
class ChatWebSocket {
  chatId: number;
  token: string;
  socket: WebSocket | null;
  isTyping: boolean;
  typingTimeout: NodeJS.Timeout | undefined;
  readonly log: [string, unknown][] = [];
  readonly messages: any[] = [];
  readonly typing: any[] = [];
  readonly reads: any[] = [];
  readonly errors: string[] = [];
  closed = false;

  constructor(
    private readonly base: string,
    chatId: number,
    token: string,
  ) {
    this.chatId = chatId;
    this.token = token;
    this.socket = null;
    this.isTyping = false;
    this.typingTimeout = undefined;
  }

  connect() {
    this.socket = new WebSocket(`${this.base}/ws/chat/${this.chatId}/?token=${encodeURIComponent(this.token)}`);

    this.socket.onopen = () => {
      this.log.push(['Connected to chat', null]);
    };

    this.socket.onmessage = (event) => {
      const data = JSON.parse(event.data.toString());
      this.handleMessage(data);
    };

    this.socket.onclose = () => {
      this.log.push(['Disconnected from chat', null]);
      this.closed = true;
    };

    this.socket.onerror = (error) => {
      this.log.push(['WebSocket error:', error]);
    };
  }

  handleMessage(data: any) {
    switch (data.type) {
      case 'connection_established':
        this.log.push(['Connection established:', data.message]);
        break;

      case 'message':
        this.displayMessage(data.data);
        break;

      case 'typing':
        this.showTypingIndicator(data);
        break;

      case 'messages_read':
        this.showReadIndicator(data);
        break;

      case 'error':
        this.errors.push(data.message);
        break;
    }
  }

  sendMessage(text: string) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(
        JSON.stringify({
          type: 'message',
          text: text,
        }),
      );
    }
  }

  startTyping() {
    if (!this.isTyping) {
      this.isTyping = true;
      this.socket!.send(
        JSON.stringify({
          type: 'typing',
          is_typing: true,
        }),
      );
    }

    // Сбрасываем таймер
    clearTimeout(this.typingTimeout);
    this.typingTimeout = setTimeout(() => {
      this.stopTyping();
    }, 3000);
  }

  stopTyping() {
    if (this.isTyping) {
      this.isTyping = false;
      this.socket!.send(
        JSON.stringify({
          type: 'typing',
          is_typing: false,
        }),
      );
    }
  }

  markAsRead() {
    this.socket!.send(
      JSON.stringify({
        type: 'read_messages',
      }),
    );
  }

  disconnect() {
    clearTimeout(this.typingTimeout);
    if (this.socket) {
      this.socket.close();
    }
  }

  displayMessage(message: any) {
    this.messages.push(message);
  }

  showTypingIndicator(data: any) {
    this.typing.push(data);
  }

  showReadIndicator(data: any) {
    this.reads.push(data);
  }
}

describe.each(backends)('the seed’s ChatWebSocket client on %s', (backend) => {
  let t: TestServer;
  let john: ChannelsUser;
  let jane: ChannelsUser;
  let chatId: number;

  beforeAll(async () => {
    t = await startServer(backend);
    john = await makeUser(t, { username: 'john_doe', first_name: 'John', last_name: 'Doe' });
    jane = await makeUser(t, { username: 'jane_roe' });
    chatId = await makeGroup(t, john, [jane]);
  });
  afterAll(async () => t.close());

  it('runs the seed’s usage example end to end', async () => {
    const chat = new ChatWebSocket(t.wsUrl, chatId, john.token);
    const peer = new ChatWebSocket(t.wsUrl, chatId, jane.token);
    chat.connect();
    peer.connect();
    await waitFor(() => chat.log.some(([line]) => line === 'Connection established:'), 5000, 'john connected');
    await waitFor(() => peer.log.some(([line]) => line === 'Connection established:'), 5000, 'jane connected');
    expect(chat.log.slice(0, 2)).toEqual([
      ['Connected to chat', null],
      ['Connection established:', 'Successfully connected to chat'],
    ]);

    // Отправка сообщения
    chat.sendMessage('Привет!');
    await waitFor(() => peer.messages.length === 1 && chat.messages.length === 1, 5000, 'message on both sides');
    expect(peer.messages[0]).toMatchObject({
      text: 'Привет!',
      sender: { id: Number(john.id), username: 'john_doe', first_name: 'John', last_name: 'Doe' },
      is_edited: false,
      is_deleted: false,
    });
    expect(chat.messages[0]).toEqual(peer.messages[0]);

    // Индикатор печати
    chat.startTyping();
    await waitFor(() => peer.typing.length === 1, 5000, 'typing on');
    chat.stopTyping();
    await waitFor(() => peer.typing.length === 2, 5000, 'typing off');
    expect(peer.typing).toEqual([
      { type: 'typing', user_id: Number(john.id), username: 'john_doe', is_typing: true },
      { type: 'typing', user_id: Number(john.id), username: 'john_doe', is_typing: false },
    ]);
    expect(chat.typing).toEqual([]);

    // Отметка как прочитанное
    peer.markAsRead();
    await waitFor(() => chat.reads.length === 1, 5000, 'read receipt');
    expect(chat.reads[0]).toEqual({ type: 'messages_read', user_id: Number(jane.id), username: 'jane_roe' });
    expect((await t.server.core.getChatSummary(jane.id, chatId)).unreadCount).toBe(0);

    expect(chat.errors).toEqual([]);
    expect(peer.errors).toEqual([]);
    chat.disconnect();
    peer.disconnect();
    await waitFor(() => chat.closed && peer.closed, 5000, 'disconnected');
    expect(chat.log.at(-1)).toEqual(['Disconnected from chat', null]);
  });

  it('sees the server close it when the token is bad, with nothing in between', async () => {
    const chat = new ChatWebSocket(t.wsUrl, chatId, 'not-a-jwt');
    chat.connect();
    await waitFor(() => chat.closed, 5000, 'closed');
    expect(chat.log).toEqual([
      ['Connected to chat', null],
      ['Disconnected from chat', null],
    ]);
    expect(chat.messages).toEqual([]);
  });
});
