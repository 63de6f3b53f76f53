import { MESSAGE_NOT_FOUND, NOT_YOURS } from '../../core/actions/message-edits.js';
import { isChatError, type ErrorCode } from '../../domain/errors.js';

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
  // Within a chat one can see: an unknown message (404) and someone else's (403) say so.
  if (err.reason === MESSAGE_NOT_FOUND || err.reason === NOT_YOURS) return { success: false, error: err.message, code: err.code };
  if (err.code === 'forbidden' || err.code === 'not_found') return { success: false, error: NO_ACCESS, code: 'forbidden' };
  return { success: false, error: err.message, code: err.code };
}
