import { isChatError, refusesChat, refusesNamedChat } from '../../domain/errors.js';
import { ChannelsClose, type ChannelsCloseReason } from './close-codes.js';

/** What the client gets for a failed frame: an error frame (socket stays open) or a close. */
export type ChannelsFailure =
  | { readonly kind: 'error'; readonly message: string; readonly technical: boolean }
  | { readonly kind: 'close'; readonly close: ChannelsCloseReason };

/**
 * The one mapper from core errors to this dialect's wire. The core words text errors the way
 * the seed does (`Message text cannot be empty`, `Message text exceeds <N> characters`,
 * `Rate limit exceeded`); the reason pins the seed's wording should the core's ever change.
 * Losing identity or access mid-connection closes it, as on connect.
 */
export function channelsFailure(err: unknown): ChannelsFailure {
  if (!isChatError(err)) return { kind: 'error', message: 'Internal server error', technical: true };
  // An unknown or someone else's message is a refused frame, not lost access to the chat.
  if (refusesChat(err)) return { kind: 'close', close: ChannelsClose.forbidden };
  switch (err.code) {
    case 'unauthorized':
      return { kind: 'close', close: ChannelsClose.unauthorized };
    case 'rate_limited':
      return { kind: 'error', message: 'Rate limit exceeded', technical: false };
    case 'internal':
      return { kind: 'error', message: err.message, technical: true };
    case 'unavailable':
      // Retryable, and already logged once where the outage was detected: not a per-frame error line.
      return { kind: 'error', message: err.message, technical: false };
    default:
      if (err.reason === 'text_empty') return { kind: 'error', message: 'Message text cannot be empty', technical: false };
      return { kind: 'error', message: err.message, technical: false };
  }
}

/**
 * Why a connection is refused before it is accepted: no valid token, or a chat id that is
 * malformed, unknown or foreign (alike, so ids cannot be probed). Null for anything else
 * (an outage, a bug), which the caller answers on its own.
 */
export function admissionRefusal(err: unknown): ChannelsCloseReason | null {
  if (isChatError(err) && err.code === 'unauthorized') return ChannelsClose.unauthorized;
  return refusesNamedChat(err) ? ChannelsClose.forbidden : null;
}
