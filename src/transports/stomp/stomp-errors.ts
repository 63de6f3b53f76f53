import { isChatError, isUnavailable, refusesNamedChat, RETRY_AFTER_S } from '../../domain/errors.js';
import { StompProtocolError, type StompVersion } from './stomp-frame.js';
import { encodeFrame } from './stomp-frame-encoder.js';

export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_HEARTBEAT_TIMEOUT = 4000;

/** What a destination whose chat the user may not use gets: unknown and foreign chats alike. */
export const accessDenied = (): StompProtocolError => new StompProtocolError('Access denied', 'You are not a member of this chat');

/** A refusal of the chat a destination names (bad id, unknown, not a member), as opposed to an outage. */
export const refusesDestination = refusesNamedChat;

export interface StompErrorFrame {
  readonly frame: string;
  /** The `message` header, also the close reason (cut to fit a WebSocket close frame). */
  readonly message: string;
  /** Not a protocol or client error: the caller logs it. */
  readonly unexpected: boolean;
}

/**
 * Any failure as the ERROR frame STOMP 1.2 ends a session with: a short `message` header and
 * the details in the body; `retry-after` for an outage (as HTTP's Retry-After), `receipt-id`
 * when the failed frame asked for a receipt.
 */
export function errorFrame(err: unknown, receipt: string | undefined, version: StompVersion): StompErrorFrame {
  let message: string;
  let details: string;
  let unexpected = false;
  if (err instanceof StompProtocolError) {
    message = err.message;
    details = err.details || err.message;
  } else if (isChatError(err)) {
    message = err.code === 'forbidden' ? 'Access denied' : err.reason === 'client_msg_id_invalid' ? 'Invalid clientMessageId' : err.message;
    details = err.message;
  } else {
    unexpected = true;
    message = 'Internal server error';
    details = message;
  }
  const headers: Record<string, string> = { message, 'content-type': 'text/plain' };
  if (isUnavailable(err)) headers['retry-after'] = String(RETRY_AFTER_S);
  if (receipt !== undefined) headers['receipt-id'] = receipt;
  return { frame: encodeFrame('ERROR', headers, details, version), message, unexpected };
}

/** The answer to a CONNECT offering no version this server speaks (sent before any version is agreed). */
export const unsupportedVersionFrame = (): string =>
  encodeFrame('ERROR', { version: '1.2,1.1,1.0', 'content-type': 'text/plain', message: 'Unsupported protocol version' }, 'Supported protocol versions are 1.2,1.1,1.0', '1.2');
