import { isChatError, isUnavailable, refusesChat, RETRY_AFTER_S, type ErrorCode } from '../../domain/errors.js';

/** The seed's wording for any refused chat access (not a member, or no such chat). */
export const NO_ACCESS = 'У вас нет доступа к этому чату';

export interface ErrorAck {
  readonly success: false;
  readonly error: string;
  /** Our addition: the stable error code, so clients need not parse the wording. */
  readonly code: ErrorCode;
}

/**
 * The one mapper from a failure to the `{success:false, error}` ack. Access refusals use the
 * seed's message, and an unknown chat reads the same as someone else's chat so ids cannot be
 * probed; every other error carries the core's message. Unexpected errors never leak details.
 */
export function toErrorAck(err: unknown): ErrorAck {
  if (!isChatError(err)) return { success: false, error: 'Internal server error', code: 'internal' };
  // Within a chat one can see, an unknown message (404) and someone else's (403) say so.
  if (refusesChat(err)) return { success: false, error: NO_ACCESS, code: 'forbidden' };
  return { success: false, error: err.message, code: err.code };
}

/** The `connect_error` a refused handshake gets: `data.code` tells an outage (retry) from a bad token (log in again). */
export function connectRefusal(err: unknown): Error & { data: { code: 'unavailable' | 'unauthorized'; retryAfterS?: number } } {
  if (isUnavailable(err)) return Object.assign(new Error(err.message), { data: { code: 'unavailable' as const, retryAfterS: RETRY_AFTER_S } });
  return Object.assign(new Error('Unauthorized'), { data: { code: 'unauthorized' as const } });
}
