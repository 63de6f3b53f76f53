/**
 * Close codes of the `channels` dialect, in the application range 4000-4999 (RFC 6455),
 * modelled on HTTP statuses as Django Channels deployments usually do.
 */
export const ChannelsClose = {
  /** No token, or a token that does not verify. */
  unauthorized: { code: 4401, reason: 'unauthorized' },
  /** Not a member of the chat, an unknown or malformed chat id, removed, or the chat deleted. */
  forbidden: { code: 4403, reason: 'forbidden' },
  /** A newer connection of the same user to the same chat took this one's place. */
  replaced: { code: 4409, reason: 'replaced' },
  /** The database is unreachable for now: retryable, as an HTTP 503 is. */
  unavailable: { code: 4503, reason: 'unavailable, retry later' },
  /** Something else failed on our side while opening the connection. */
  internal: { code: 1011, reason: 'internal error' },
} as const;

export type ChannelsCloseReason = (typeof ChannelsClose)[keyof typeof ChannelsClose];
