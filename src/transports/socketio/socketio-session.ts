import type { DomainEvent } from '../../domain/events.js';
import { encodeOnce } from '../../realtime/encode-once.js';
import type { Session } from '../../realtime/session.js';
import { toSocketIoMessage } from './message-shape.js';
import type { PreparedPacket } from './prepared-packet.js';

/** The slice of a Socket.IO socket a session writes to. */
export interface SocketIoSink {
  emit(event: string, payload: unknown): unknown;
  /** Encodes an event once, for every socket that gets it (`emitPrepared`). */
  prepare(event: string, payload: unknown): PreparedPacket;
  emitPrepared(packet: PreparedPacket): void;
  disconnect(close?: boolean): unknown;
  /** Packets queued for this client and not yet written to its transport. */
  backlog(): number;
  /** Bytes queued for this client (engine.io's write buffer plus the transport socket's). */
  backlogBytes?(): number;
}

/**
 * Past this many queued packets (a client that stopped polling, or a websocket peer that does
 * not read) the connection is closed as a slow consumer instead of buffering without bound;
 * the client reconnects and reloads with `join_chat`.
 */
export const SLOW_CONSUMER_PACKETS = 2000;

/**
 * One Socket.IO connection as the realtime layer sees it. Delivery comes from the shared bus
 * through the registry (no Socket.IO adapter, no rooms): this session keeps the chats its
 * socket joined and emits `new_message` for those alone.
 */
export class SocketIoSession implements Session {
  readonly dialect = 'socketio' as const;
  private readonly joined = new Set<number>();

  constructor(
    readonly id: string,
    readonly userId: string,
    private readonly socket: SocketIoSink,
    /** MAX_BUFFERED_BYTES: past it the connection is closed like past SLOW_CONSUMER_PACKETS. */
    private readonly maxBufferedBytes = Number.POSITIVE_INFINITY,
  ) {}

  join(chatId: number): boolean {
    if (this.joined.has(chatId)) return false;
    this.joined.add(chatId);
    return true;
  }

  leave(chatId: number): void {
    this.joined.delete(chatId);
  }

  hasJoined(chatId: number): boolean {
    return this.joined.has(chatId);
  }

  handle(event: DomainEvent): boolean {
    switch (event.type) {
      case 'message.created': {
        if (!this.joined.has(event.chatId)) return false;
        if (this.socket.backlog() > SLOW_CONSUMER_PACKETS || (this.socket.backlogBytes?.() ?? 0) > this.maxBufferedBytes) {
          this.close();
          return false;
        }
        this.socket.emitPrepared(encodeOnce(event, 'socketio', () => this.socket.prepare('new_message', toSocketIoMessage(event.message, event.sender))));
        return true;
      }
      case 'message.updated':
        if (this.joined.has(event.chatId)) this.socket.emit('message_updated', encodeOnce(event, 'socketio', () => toSocketIoMessage(event.message, event.sender)));
        return false;
      case 'message.deleted':
        if (this.joined.has(event.chatId)) {
          this.socket.emit('message_deleted', encodeOnce(event, 'socketio', () => ({ id: String(event.message.id), chatId: String(event.chatId), changeSeq: event.message.changeSeq })));
        }
        return false;
      default:
        return false;
    }
  }

  /** The seed's way: the chat's room is left silently; later events of it are not pushed. */
  lostAccess(chatId: number): void {
    this.joined.delete(chatId);
  }

  close(): void {
    this.joined.clear();
    this.socket.disconnect(true);
  }
}
