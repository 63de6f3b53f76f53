/**
 * The one registry of error codes. Each dialect maps a code to its own wire form
 * (HTTP status, error frame, close code) in exactly one mapper; nothing else inspects messages.
 */
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

/** What a client may see: a code plus a human message; never a stack or a secret. */
export class ChatError extends Error {
  readonly code: ErrorCode;
  /** A finer reason for callers that must word the error their own way (e.g. `too_long`). */
  readonly reason: string | undefined;

  constructor(code: ErrorCode, message: string, reason?: string) {
    super(message);
    this.name = 'ChatError';
    this.code = code;
    this.reason = reason;
  }

  get status(): number {
    return ErrorCodes[this.code].status;
  }
}

export function isChatError(err: unknown): err is ChatError {
  return err instanceof ChatError;
}

export const badRequest = (message: string, reason?: string): ChatError => new ChatError('bad_request', message, reason);
export const notFound = (message: string): ChatError => new ChatError('not_found', message);
export const forbidden = (message: string): ChatError => new ChatError('forbidden', message);
export const conflict = (message: string): ChatError => new ChatError('conflict', message);
export const unauthorized = (message = 'Unauthorized'): ChatError => new ChatError('unauthorized', message);

/** Seconds a client is told to wait (`Retry-After`) when a dependency is unavailable. */
export const RETRY_AFTER_S = 5;
export const unavailable = (message = 'The service is temporarily unavailable: retry in a few seconds'): ChatError => new ChatError('unavailable', message);
/** A dependency outage (answered as retryable in every dialect), not a client mistake. */
export const isUnavailable = (err: unknown): err is ChatError => isChatError(err) && err.code === 'unavailable';
