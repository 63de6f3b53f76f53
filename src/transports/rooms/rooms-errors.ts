import { STATUS_CODES } from 'node:http';
import { describeError, isUnavailable } from '../../domain/errors.js';
import type { Logger } from '../../ports/logger.js';

/**
 * The one mapper from failures to the `rooms` wire: before the upgrade an HTTP status with
 * `{"error"}`; on an open socket the seed's `{"type":"error","error"}` frame; a history that
 * cannot be loaded closes with 4000 + the status. Internal failures are logged, never shown.
 */
export function errorFrame(err: unknown, log: Logger): string {
  const { code, message } = describeError(err);
  if (code !== 'internal') return JSON.stringify({ type: 'error', error: message });
  log.error({ err: { type: (err as Error)?.name, message: (err as Error)?.message } }, 'rooms frame failed');
  return JSON.stringify({ type: 'error', error: 'Internal error' });
}

/** A refused upgrade: status, its text, the JSON body, and the log line it deserves (if any). */
export function upgradeRefusal(err: unknown): { readonly status: number; readonly text: string; readonly body: string; readonly log: 'auth failure' | 'access denied' | 'failed' | null } {
  const { status, message } = describeError(err);
  const log = status === 401 ? 'auth failure' : status === 403 ? 'access denied' : status >= 500 && !isUnavailable(err) ? 'failed' : null;
  return { status, text: STATUS_CODES[status] ?? 'Error', body: JSON.stringify({ error: message }), log };
}

/** The close of a chat socket whose history could not be sent. */
export function historyClose(err: unknown): { readonly code: number; readonly reason: string; readonly unexpected: boolean } {
  const { status, message, unexpected } = describeError(err);
  return unexpected ? { code: 1011, reason: 'internal error', unexpected } : { code: 4000 + status, reason: message, unexpected };
}
