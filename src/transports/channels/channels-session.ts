import type { WebSocket } from 'ws';
import type { ChatCore } from '../../core/chat-core.js';
import type { DomainEvent } from '../../domain/events.js';
import type { Logger } from '../../ports/logger.js';
import { encodeOnce } from '../../realtime/encode-once.js';
import type { Session } from '../../realtime/session.js';
import { PreparedFrame } from '../shared/prepared-frame.js';
import { sendBounded } from '../shared/ws-gateway.js';
import { channelsFailure } from './channels-errors.js';
import { parseClientMsgId } from '../../core/client-msg-id.js';
import { parseChangesRequest, parseId } from '../../core/paging.js';
import { changesFrame, errorFrame, messageDeletedFrame, messageFrame, messagesReadFrame, messageUpdatedFrame, typingFrame } from './channels-wire.js';
import { decodeClientFrame, type ClientFrame } from './client-frame.js';
import { ChannelsClose } from './close-codes.js';

/** Frames waiting for the core past which the socket stops reading (TCP backpressure). */
const PAUSE_AT = 32;
const RESUME_AT = 8;

/**
 * One client connected to one chat (`/ws/chat/{id}/`). Frames are handled one after another,
 * so a client's messages are stored in the order it sent them.
 */
export class ChannelsSession implements Session {
  readonly dialect = 'channels' as const;
  private closed = false;
  private pending = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly id: string,
    readonly userId: string,
    readonly chatId: number,
    private readonly ws: WebSocket,
    private readonly core: ChatCore,
    private readonly log: Logger,
  ) {}

  handle(event: DomainEvent): boolean {
    if (this.closed || !('chatId' in event) || event.chatId !== this.chatId) return false;
    switch (event.type) {
      case 'message.created':
        return sendBounded(this.ws, encodeOnce(event, 'channels', () => new PreparedFrame(messageFrame(event.message, event.sender))));
      case 'message.updated':
        sendBounded(this.ws, encodeOnce(event, 'channels', () => new PreparedFrame(messageUpdatedFrame(event.message, event.sender))));
        return false;
      case 'message.deleted':
        sendBounded(this.ws, encodeOnce(event, 'channels', () => new PreparedFrame(messageDeletedFrame(event.message))));
        return false;
      case 'typing':
        if (event.userId !== this.userId) sendBounded(this.ws, encodeOnce(event, 'channels', () => new PreparedFrame(typingFrame(event))), true);
        return false;
      case 'receipt.read':
        sendBounded(this.ws, encodeOnce(event, 'channels', () => new PreparedFrame(messagesReadFrame(event))), true);
        return false;
      case 'members.removed':
        if (event.userIds.includes(this.userId)) this.revoke('removed from chat');
        return false;
      case 'chat.deleted':
        this.revoke('chat deleted');
        return false;
      default:
        return false;
    }
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    // A paused socket would not read the peer's close frame: let the handshake finish.
    this.ws.resume();
    this.ws.close(code, reason);
  }

  /** The socket is gone (closed by either side): stop writing and handling. */
  onClosed(): void {
    this.closed = true;
  }

  /** Queues a client frame behind the ones before it. */
  receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.closed) return;
    if (++this.pending >= PAUSE_AT) this.ws.pause();
    this.queue = this.queue
      .then(() => this.process(decodeClientFrame(data, isBinary)))
      .finally(() => {
        if (--this.pending <= RESUME_AT && this.ws.isPaused && !this.closed) this.ws.resume();
      });
  }

  private revoke(why: string): void {
    this.log.info({ userId: this.userId, chatId: this.chatId, sessionId: this.id, why }, 'access revoked, closing');
    this.close(ChannelsClose.forbidden.code, ChannelsClose.forbidden.reason);
  }

  private async process(frame: ClientFrame): Promise<void> {
    if (this.closed) return;
    try {
      switch (frame.kind) {
        case 'message': {
          const clientMsgId = parseClientMsgId(frame.clientMsgId, 'client_msg_id');
          const { message, replay } = await this.core.sendMessage(this.userId, { chatId: this.chatId, text: frame.text, clientMsgId });
          // A retry (same client_msg_id) stores nothing and publishes nothing: only this socket
          // gets the original `message` frame again, as its confirmation.
          if (replay) this.handle(replay);
          this.log.info({ userId: this.userId, chatId: this.chatId, messageId: message.id, seq: message.seq, retry: replay !== undefined }, 'message sent');
          return;
        }
        case 'typing':
          await this.core.setTyping(this.userId, this.chatId, frame.isTyping);
          return;
        case 'read_messages':
          await this.core.markRead(this.userId, this.chatId);
          return;
        case 'edit_message':
          // The edit comes back to this socket too, as `message_updated`.
          await this.core.editMessage(this.userId, { chatId: this.chatId, messageId: parseId(frame.messageId, 'message_id') }, frame.text ?? '');
          return;
        case 'delete_message':
          await this.core.deleteMessage(this.userId, { chatId: this.chatId, messageId: parseId(frame.messageId, 'message_id') });
          return;
        case 'get_changes': {
          const { after, limit } = parseChangesRequest(frame.after, frame.limit);
          const page = await this.core.changesAfter(this.userId, this.chatId, after, limit);
          const users = await this.core.usersById([...new Set(page.changes.map((m) => m.senderId))]);
          const fallback = (id: string) => ({ id, username: null, name: null, firstName: null, lastName: null, email: null });
          sendBounded(this.ws, changesFrame(page.changes.map((m) => ({ message: m, sender: users.get(m.senderId) ?? fallback(m.senderId) })), page.cursor));
          return;
        }
        case 'invalid':
          this.sendError(frame.error);
          return;
      }
    } catch (err) {
      this.fail(err, frame.kind);
    }
  }

  private fail(err: unknown, frameKind: string): void {
    const failure = channelsFailure(err);
    const context = { userId: this.userId, chatId: this.chatId, sessionId: this.id, frame: frameKind };
    if (failure.kind === 'close') {
      this.log.warn({ ...context, code: failure.close.code }, 'access denied on a frame, closing');
      this.close(failure.close.code, failure.close.reason);
      return;
    }
    if (failure.technical) this.log.error({ ...context, err: (err as Error).message }, 'frame failed');
    else if (failure.message === 'Rate limit exceeded') this.log.warn(context, 'rate limit exceeded');
    else this.log.debug({ ...context, error: failure.message }, 'frame refused');
    this.sendError(failure.message);
  }

  private sendError(message: string): void {
    sendBounded(this.ws, errorFrame(message));
  }
}
