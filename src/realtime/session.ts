import type { DomainEvent } from '../domain/events.js';

export type DialectName = 'hub' | 'rooms' | 'channels' | 'stomp' | 'socketio';

/** Why a session lost a chat: its user was removed from it, or the chat was deleted. */
export type LostAccessReason = 'removed' | 'deleted';

/**
 * One live client connection of any dialect, as the realtime layer sees it. The registry
 * hands it every event of its user's chats (and of its user); the session picks what concerns
 * it (its chat, its subscriptions) and writes its own wire format.
 */
export interface Session {
  readonly id: string;
  readonly userId: string;
  readonly dialect: DialectName;
  /**
   * The one chat a per-chat connection serves (`channels`, the `rooms` chat socket). Such a
   * session was admitted by an access check before it was registered; the registry checks
   * again once registered, so a removal that committed in between still reaches it as
   * `lostAccess`.
   */
  readonly chatId?: number;
  /**
   * Must not throw or block. Returns true when a `message.created` was written to the client
   * (it then counts as delivered to this user).
   */
  handle(event: DomainEvent): boolean;
  /**
   * The one way a session learns its user lost a chat (removed, or the chat deleted); called
   * after `handle` has seen the event, so a dialect that renders it (`hub`) already has. Each
   * dialect reacts its seed's way: close the chat's socket, forget its subscriptions, or nothing.
   * Must not throw.
   */
  lostAccess(chatId: number, reason: LostAccessReason): void;
  /** Closes the connection with a dialect-appropriate code (shutdown, replaced, revoked). */
  close(code: number, reason: string): void;
}
