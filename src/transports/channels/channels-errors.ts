import { isChatError } from '../../domain/errors.js';
import { ChannelsClose, type ChannelsCloseReason } from './close-codes.js';

/** What the client gets for a failed frame: an error frame (socket stays open) or a close. */
export type ChannelsFailure =
  | { readonly kind: 'error'; readonly message: string; readonly technical: boolean }
  | { readonly kind: 'close'; readonly close: ChannelsCloseReason };

/**
 * The one mapper from core errors to this dialect's wire. The core words text errors the way
 * the seed does (`Message text cannot be empty`, `Message text exceeds <N> characters`,
 * `Rate limit exceeded`); `reason` pins the seed's wording should the core's ever change.
 * Losing identity or access mid-connection closes it, as on connect.
 */
export function channelsFailure(err: unknown): ChannelsFailure {
  if (!isChatError(err)) return { kind: 'error', message: 'Internal server error', technical: true };
  switch (err.code) {
    case 'unauthorized':
      return { kind: 'close', close: ChannelsClose.unauthorized };
    case 'forbidden':
    case 'not_found':
      return { kind: 'close', close: ChannelsClose.forbidden };
    case 'rate_limited':
      return { kind: 'error', message: 'Rate limit exceeded', technical: false };
    case 'internal':
      return { kind: 'error', message: err.message, technical: true };
    case 'unavailable':
      // Retryable, and already logged once where the outage was detected: not a per-frame error line.
      return { kind: 'error', message: err.message, technical: false };
    default:
      if (err.reason === 'empty') return { kind: 'error', message: 'Message text cannot be empty', technical: false };
      return { kind: 'error', message: err.message, technical: false };
  }
}
