export interface CoreSettings {
  /** Longest message text, in Unicode code points. */
  readonly maxMessageLength: number;
  /** Sends per user per window; 0 turns the limit off. */
  readonly rateLimitMessages: number;
  readonly rateLimitWindowMs: number;
  readonly maxUploadBytes: number;
  /** A typing indicator expires by itself after this long without a refresh. */
  readonly typingTtlMs: number;
  /** Largest history page. */
  readonly maxPageSize: number;
  /** Largest page of chats (`listChats`): a larger or missing limit is capped to it. */
  readonly maxPageChats: number;
  /** Connections a user may open per `rateLimitWindowMs` (all dialects); 0 turns it off. */
  readonly rateLimitConnections: number;
  /** How often noted deliveries are announced (`receipt.delivered`, batched per flush). */
  readonly receiptFlushMs: number;
  /** How often moved delivered cursors are written to the store (one statement per write). */
  readonly receiptPersistMs: number;
  /**
   * Groups with more members than this are "large": typing and presence there are throttled
   * and coalesced, and `stomp` announces deliveries as one cursor per recipient per flush
   * (docs/architecture.md, "Large groups").
   */
  readonly largeGroupSize: number;
  /** In a large group, a user's repeated `typing: true` is announced at most once per this long. */
  readonly largeGroupTypingMs: number;
  /** In a large group, at most this many users' typing starts are announced per chat per second. */
  readonly largeGroupTypistsPerSecond: number;
  /**
   * A user in a large group: a presence change is announced after this settle time, with the
   * state it has then; a flap (offline and back) within it announces nothing.
   */
  readonly largeGroupPresenceSettleMs: number;
}

export const defaultCoreSettings: CoreSettings = {
  maxMessageLength: 1000,
  rateLimitMessages: 60,
  rateLimitWindowMs: 60_000,
  maxUploadBytes: 5 * 1024 * 1024,
  typingTtlMs: 6000,
  maxPageSize: 200,
  maxPageChats: 200,
  rateLimitConnections: 0,
  receiptFlushMs: 100,
  receiptPersistMs: 2000,
  largeGroupSize: 500,
  largeGroupTypingMs: 3000,
  largeGroupTypistsPerSecond: 5,
  largeGroupPresenceSettleMs: 5000,
};
