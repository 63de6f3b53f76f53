/** HTTP status of each coarse error code: what a plain HTTP client gets for it. */
export const ErrorCodes = {
  bad_request: { status: 400 },
  unauthorized: { status: 401 },
  forbidden: { status: 403 },
  not_found: { status: 404 },
  conflict: { status: 409 },
  payload_too_large: { status: 413 },
  unsupported_media_type: { status: 415 },
  rate_limited: { status: 429 },
  unavailable: { status: 503 },
  internal: { status: 500 },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

interface ReasonEntry {
  readonly code: ErrorCode;
  readonly message: string;
}

/**
 * The one registry of reasons a client is refused for: each has its code (hence its HTTP
 * status) and a default message. Every code is also a reason of its own (the generic case);
 * the finer ones exist where some dialect must answer differently (the seed's wording, an
 * error frame instead of a close). Each dialect turns a reason into its wire form in exactly
 * one mapper file; nothing else inspects codes or messages.
 */
export const ErrorReasons = {
  bad_request: { code: 'bad_request', message: 'Invalid request' },
  unauthorized: { code: 'unauthorized', message: 'Unauthorized' },
  forbidden: { code: 'forbidden', message: 'Forbidden' },
  not_found: { code: 'not_found', message: 'Not found' },
  conflict: { code: 'conflict', message: 'Conflict' },
  payload_too_large: { code: 'payload_too_large', message: 'Request body is too large' },
  unsupported_media_type: { code: 'unsupported_media_type', message: 'Unsupported media type' },
  rate_limited: { code: 'rate_limited', message: 'Rate limit exceeded' },
  unavailable: { code: 'unavailable', message: 'The service is temporarily unavailable: retry in a few seconds' },
  internal: { code: 'internal', message: 'Internal server error' },

  text_not_string: { code: 'bad_request', message: 'Message text must be a string' },
  text_empty: { code: 'bad_request', message: 'Message text cannot be empty' },
  text_nul: { code: 'bad_request', message: 'Message text must not contain NUL characters' },
  text_too_long: { code: 'bad_request', message: 'Message text is too long' },
  client_msg_id_invalid: { code: 'bad_request', message: 'client message id must be a string' },
  chat_not_found: { code: 'not_found', message: 'Chat not found' },
  not_a_member: { code: 'forbidden', message: 'You are not a member of this chat' },
  /** An unknown message (or one of another chat, or already deleted) in a chat one can see. */
  message_not_found: { code: 'not_found', message: 'Message not found' },
  /** Someone else's message, in a chat one can see. */
  not_yours: { code: 'forbidden', message: 'Only the author can change this message' },
} as const satisfies Record<string, ReasonEntry>;

export type ErrorReason = keyof typeof ErrorReasons;

/** What a client may see: a registered reason plus a human message; never a stack or a secret. */
export class ChatError extends Error {
  readonly reason: ErrorReason;
  readonly code: ErrorCode;

  constructor(reason: ErrorReason, message: string = ErrorReasons[reason].message) {
    super(message);
    this.name = 'ChatError';
    this.reason = reason;
    this.code = ErrorReasons[reason].code;
  }

  get status(): number {
    return ErrorCodes[this.code].status;
  }
}

export function isChatError(err: unknown): err is ChatError {
  return err instanceof ChatError;
}

export const badRequest = (message: string): ChatError => new ChatError('bad_request', message);
export const notFound = (message: string): ChatError => new ChatError('not_found', message);
export const forbidden = (message: string): ChatError => new ChatError('forbidden', message);
export const conflict = (message: string): ChatError => new ChatError('conflict', message);
export const unauthorized = (message = 'Unauthorized'): ChatError => new ChatError('unauthorized', message);

/** Seconds a client is told to wait (`Retry-After`) when a dependency is unavailable. */
export const RETRY_AFTER_S = 5;
export const unavailable = (message?: string): ChatError => new ChatError('unavailable', message);
/** A dependency outage (answered as retryable in every dialect), not a client mistake. */
export const isUnavailable = (err: unknown): err is ChatError => isChatError(err) && err.code === 'unavailable';

/**
 * A refusal of the chat itself (unknown, or not a member) — as opposed to a refused message
 * inside a chat one can see (`message_not_found`, `not_yours`). Dialects that treat lost
 * access specially (close the socket, the seed's "no access" wording) ask this.
 */
export function refusesChat(err: unknown): boolean {
  return isChatError(err) && (err.code === 'forbidden' || err.code === 'not_found') && err.reason !== 'message_not_found' && err.reason !== 'not_yours';
}

/**
 * A chat id the client named that it may not use: malformed, unknown or foreign, told apart
 * from an outage or a bug. Dialects that refuse all three alike (so ids cannot be probed) ask this.
 */
export function refusesNamedChat(err: unknown): boolean {
  return (isChatError(err) && err.code === 'bad_request') || refusesChat(err);
}

/** An error as a client sees it: its reason, code, status and message; anything unexpected is `internal`. */
export function describeError(err: unknown): { readonly reason: ErrorReason; readonly code: ErrorCode; readonly status: number; readonly message: string; readonly unexpected: boolean } {
  if (isChatError(err)) return { reason: err.reason, code: err.code, status: err.status, message: err.message, unexpected: false };
  return { reason: 'internal', code: 'internal', status: 500, message: ErrorReasons.internal.message, unexpected: true };
}
