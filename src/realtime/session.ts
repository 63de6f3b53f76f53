import type { DomainEvent } from '../domain/events.js';

export type DialectName = 'hub' | 'rooms' | 'channels' | 'stomp' | 'socketio';

/**
 * One live client connection of any dialect, as the realtime layer sees it. The registry
 * hands it every event addressed to its user; the session picks what concerns it (its chat,
 * its subscriptions) and writes its own wire format.
 */
export interface Session {
  readonly id: string;
  readonly userId: string;
  readonly dialect: DialectName;
  /**
   * Must not throw or block. Returns true when a `message.created` was written to the client
   * (it then counts as delivered to this user).
   */
  handle(event: DomainEvent): boolean;
  /** Closes the connection with a dialect-appropriate code (shutdown, replaced, revoked). */
  close(code: number, reason: string): void;
}
