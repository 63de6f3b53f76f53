import { ChatError } from '../domain/errors.js';
import type { Logger } from '../ports/logger.js';

/**
 * The one way a FileStore reports a backend failure: logged here with its kind only (name,
 * code, status: never a request, a header or a credential), answered as a retryable 503.
 */
export function storageUnavailable(log: Logger, operation: 'put' | 'get', err: unknown): ChatError {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown } };
  log.error(
    { operation, err: { type: typeof e?.name === 'string' ? e.name : 'Error', code: e?.code, status: e?.$metadata?.httpStatusCode, message: typeof e?.message === 'string' ? e.message : undefined } },
    'file storage failed',
  );
  return new ChatError('unavailable', 'File storage is temporarily unavailable');
}
