import type { WebSocket } from 'ws';
import type { DomainEvent } from '../../domain/events.js';
import { encodeOnce } from '../../realtime/encode-once.js';
import type { Session } from '../../realtime/session.js';
import { PreparedFrame } from '../shared/prepared-frame.js';
import { sendBounded } from '../shared/ws-gateway.js';
import { chatChangeFrame, encodeFrame, messageDeletedData, messageUpdatedData, presenceData, socketMessage } from './hub-wire.js';

/**
 * One `hub` socket: it carries every conversation of its user, so it renders every event the
 * registry routes to that user. `typing` and `presence` about the user itself are skipped
 * (its own devices need neither); its own messages, read receipts and chat changes are not
 * (multi-device).
 */
export class HubSession implements Session {
  readonly dialect = 'hub' as const;

  constructor(
    readonly id: string,
    readonly userId: string,
    private readonly ws: WebSocket,
  ) {}

  handle(event: DomainEvent): boolean {
    switch (event.type) {
      case 'message.created': {
        const frame = encodeOnce(event, 'hub', () => new PreparedFrame(encodeFrame('message', socketMessage(event.message))));
        return sendBounded(this.ws, frame);
      }
      case 'typing': {
        if (event.userId === this.userId) return false;
        const frame = encodeOnce(
          event,
          'hub',
          () => new PreparedFrame(encodeFrame('typing', { conversation_id: String(event.chatId), user_id: event.userId, is_typing: event.isTyping })),
        );
        sendBounded(this.ws, frame, true);
        return false;
      }
      case 'presence': {
        if (event.userId === this.userId) return false;
        const frame = encodeOnce(event, 'hub', () => new PreparedFrame(encodeFrame('presence', presenceData(event.userId, event.online, event.lastSeen))));
        sendBounded(this.ws, frame, true);
        return false;
      }
      case 'receipt.read': {
        // Read receipts (an addition to the seed): the reader's other devices clear their
        // unread state, the other members mark their messages read (✓✓).
        const frame = encodeOnce(
          event,
          'hub',
          () => new PreparedFrame(encodeFrame('read', { conversation_id: String(event.chatId), user_id: event.userId, read_seq: event.readSeq })),
        );
        sendBounded(this.ws, frame);
        return false;
      }
      case 'message.updated':
        sendBounded(this.ws, encodeOnce(event, 'hub', () => new PreparedFrame(encodeFrame('message_updated', messageUpdatedData(event.message)))));
        return false;
      case 'message.deleted':
        sendBounded(this.ws, encodeOnce(event, 'hub', () => new PreparedFrame(encodeFrame('message_deleted', messageDeletedData(event.message)))));
        return false;
      case 'chat.created':
      case 'chat.updated':
      case 'chat.deleted':
      case 'members.added':
      case 'members.removed': {
        // Additions to the seed, so a client shows chat and membership changes live (the removed
        // members get `members_removed` too: the registry hands it to them before `lostAccess`).
        const frame = encodeOnce(event, 'hub', () => new PreparedFrame(chatChangeFrame(event)));
        sendBounded(this.ws, frame);
        return false;
      }
      default:
        return false;
    }
  }

  /**
   * Nothing more to do: one hub socket serves all the user's conversations, `members_removed` or
   * `conversation_deleted` has already been written, and the registry sends no more of the chat.
   */
  lostAccess(): void {}

  /** Writes an `error` event (never throws). */
  sendError(message: string): void {
    sendBounded(this.ws, encodeFrame('error', { error: message }));
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
}
