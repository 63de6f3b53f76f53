import type { RawData, WebSocket } from 'ws';
import type { ChatCore } from '../../core/chat-core.js';
import { parseClientMsgId } from '../../core/client-msg-id.js';
import { parseId, type Page } from '../../core/paging.js';
import type { DomainEvent, MessageCreated, TypingChanged } from '../../domain/events.js';
import { displayName } from '../../domain/user.js';
import type { Logger } from '../../ports/logger.js';
import { encodeOnce } from '../../realtime/encode-once.js';
import type { Session } from '../../realtime/session.js';
import { FrameQueue } from '../shared/frame-queue.js';
import { PreparedFrame } from '../shared/prepared-frame.js';
import { sendBounded } from '../shared/ws-gateway.js';
import type { NameBook } from './name-book.js';
import { errorFrame, historyClose } from './rooms-errors.js';
import { CLOSE_DELETED, CLOSE_REMOVED, MAX_QUEUED_FRAMES, parseClientFrame, unknownType } from './rooms-frames.js';
import { historyItem, wireMessage, wireTime, wireUserId, type WireMessage } from './rooms-wire.js';

/** Events that arrive while the history is being read; past this the client is too far behind. */
const MAX_BUFFERED = 10_000;

export interface RoomsSessionDeps {
  readonly core: ChatCore;
  readonly names: NameBook;
  readonly log: Logger;
}

/** The wire form of a new message, encoded once per event for every `rooms` chat socket. */
export function encodeMessage(event: MessageCreated): PreparedFrame {
  return encodeOnce(event, 'rooms:message', () => new PreparedFrame(JSON.stringify(wireMessage(event.message, displayName(event.sender)))));
}

function encodeTyping(event: TypingChanged, names: NameBook): PreparedFrame {
  return encodeOnce(event, 'rooms:typing', () => {
    const frame: WireMessage = {
      chat_id: event.chatId,
      type: event.isTyping ? 'typing' : 'stop_typing',
      text: '',
      author: { id: wireUserId(event.userId), name: names.get(event.userId) ?? event.username ?? event.userId },
      time: wireTime(Date.now()),
    };
    return new PreparedFrame(JSON.stringify(frame));
  });
}

/**
 * One `/api/v1/chat/:id` or `/api/v1/group/:id` socket: history on connect, then every new
 * message of the chat (its own included), the others' typing, and frames from the client.
 * Live events that arrive while the history is read are held back and replayed after it,
 * minus the messages the history already holds, so nothing is lost or shown twice.
 */
export class RoomsChatSession implements Session {
  readonly dialect = 'rooms' as const;
  private held: DomainEvent[] | null = [];
  private readonly frames = new FrameQueue(MAX_QUEUED_FRAMES);

  constructor(
    readonly id: string,
    readonly userId: string,
    readonly chatId: number,
    private readonly ws: WebSocket,
    private readonly deps: RoomsSessionDeps,
  ) {
    ws.on('message', (data: RawData, isBinary: boolean) => this.onFrame(data, isBinary));
  }

  /** Sends the history page, then whatever arrived meanwhile. */
  async start(page: Page): Promise<void> {
    const { core, names } = this.deps;
    try {
      const [messages, members] = await Promise.all([core.history(this.userId, this.chatId, page), core.listMembers(this.userId, this.chatId)]);
      names.learnUsers(members.map((m) => m.user));
      const unknown = [...new Set(messages.map((m) => m.senderId))].filter((id) => names.get(id) === undefined);
      if (unknown.length > 0) names.learnUsers((await core.usersById(unknown)).values());
      const frame = {
        type: 'history',
        messages: messages.map((m) => historyItem(m, names.get(m.senderId) ?? m.senderId)),
        ...(messages.length === 0 ? { error: 'no messages' } : {}),
      };
      sendBounded(this.ws, JSON.stringify(frame));
      const seen = new Set(messages.map((m) => m.id));
      const held = this.held ?? [];
      this.held = null;
      for (const event of held) {
        if (event.type === 'message.created' && seen.has(event.message.id)) continue;
        if (this.deliver(event) && event.type === 'message.created') core.noteDelivered(this.userId, event.message);
      }
    } catch (err) {
      const close = historyClose(err);
      if (close.unexpected) this.deps.log.error({ err: (err as Error)?.message }, 'rooms history failed');
      this.close(close.code, close.reason);
    }
  }

  handle(event: DomainEvent): boolean {
    if (!('chatId' in event) || event.chatId !== this.chatId) return false;
    if (event.type === 'members.added') this.refreshNames(event);
    if (this.held) {
      if (this.held.length >= MAX_BUFFERED) this.close(1013, 'too far behind');
      else this.held.push(event);
      return false;
    }
    return this.deliver(event);
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  private deliver(event: DomainEvent): boolean {
    switch (event.type) {
      case 'message.created':
        this.deps.names.learn(event.sender.id, displayName(event.sender));
        return sendBounded(this.ws, encodeMessage(event));
      case 'message.updated':
        sendBounded(this.ws, encodeOnce(event, 'rooms:edited', () => new PreparedFrame(JSON.stringify(wireMessage(event.message, displayName(event.sender), 'edited')))));
        return false;
      case 'message.deleted': {
        const { names } = this.deps;
        const author = event.message.senderId;
        sendBounded(this.ws, encodeOnce(event, 'rooms:deleted', () => new PreparedFrame(JSON.stringify(wireMessage(event.message, names.get(author) ?? author, 'deleted')))));
        return false;
      }
      case 'typing':
        if (event.userId !== this.userId) sendBounded(this.ws, encodeTyping(event, this.deps.names), true);
        return false;
      case 'members.removed':
        if (event.userIds.includes(this.userId)) this.close(CLOSE_REMOVED, 'removed from chat');
        return false;
      case 'chat.deleted':
        this.close(CLOSE_DELETED, 'chat deleted');
        return false;
      default:
        return false;
    }
  }

  /** New members may type before they send: learn their names once per event, not per socket. */
  private refreshNames(event: DomainEvent & { userIds: readonly string[] }): void {
    encodeOnce(event, 'rooms:names', () => {
      this.deps.core.usersById(event.userIds).then(
        (users) => this.deps.names.learnUsers(users.values()),
        () => {},
      );
      return true;
    });
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    const queued = this.frames.push(
      () => this.process(data, isBinary),
      (err) => sendBounded(this.ws, errorFrame(err, this.deps.log)),
    );
    if (!queued) sendBounded(this.ws, JSON.stringify({ type: 'error', error: 'Too many frames in flight' }));
  }

  private async process(data: RawData, isBinary: boolean): Promise<void> {
    const frame = parseClientFrame(data, isBinary);
    const { core } = this.deps;
    switch (frame['type']) {
      case 'message': {
        // `author` is ignored: the sender is the authenticated user (SPEC "Authority").
        // `client_msg_id` makes a resend idempotent: a retry stores nothing and is answered by
        // the original `message` frame, to this socket only (nobody else sees it twice).
        const clientMsgId = parseClientMsgId(frame['client_msg_id'], 'client_msg_id');
        const { replay } = await core.sendMessage(this.userId, { chatId: this.chatId, text: frame['text'], clientMsgId });
        if (replay) this.handle(replay);
        return;
      }
      case 'edit':
        // Only the author; everyone in the chat (this socket too) gets the `edited` message.
        await core.editMessage(this.userId, { chatId: this.chatId, messageId: parseId(frame['id'], 'id') }, frame['text']);
        return;
      case 'delete':
        await core.deleteMessage(this.userId, { chatId: this.chatId, messageId: parseId(frame['id'], 'id') });
        return;
      case 'typing':
        await core.setTyping(this.userId, this.chatId, true);
        return;
      case 'stop_typing':
        await core.setTyping(this.userId, this.chatId, false);
        return;
      default:
        throw unknownType(frame['type']);
    }
  }
}
