import { describeError } from '../../domain/errors.js';

/**
 * The one mapper from failures to the hub's wire. Before the upgrade: an outage is a 503 (with
 * Retry-After, so the client retries instead of logging out), anything else a plain 401. On an
 * open socket: an `error` event with the core's message, the socket stays open.
 */
export function hubUpgradeRefusal(err: unknown): { readonly status: 401 | 503; readonly text: string; readonly message: string } {
  const { code, message } = describeError(err);
  if (code === 'unavailable') return { status: 503, text: 'Service Unavailable', message };
  return { status: 401, text: 'Unauthorized', message: code === 'unauthorized' ? message : 'Unauthorized' };
}

/** The `error` event for a failed frame; `log` says which failures are worth a line. */
export function hubFrameError(err: unknown): { readonly message: string; readonly log: 'access denied' | 'internal' | null } {
  const { code, message, unexpected } = describeError(err);
  if (unexpected) return { message, log: 'internal' };
  return { message, log: code === 'forbidden' ? 'access denied' : null };
}
