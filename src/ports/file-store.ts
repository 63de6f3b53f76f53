import type { ImageType } from '../domain/image-type.js';

/**
 * Stored uploads. Keys are opaque and URL-safe; the same key always serves the same bytes.
 * Content checks and size limits are the core's (`storeImage`), once for every store; a store
 * only keeps bytes it is handed and re-sniffs what it reads back, so it serves images only.
 *
 * Failures: `get` answers `undefined` for a key that is malformed or names nothing. When the
 * backing storage cannot be reached or refuses the operation, `put` and `get` reject with
 * `ChatError('unavailable')` (a 503 with Retry-After), never with the backend's raw error.
 */
export interface FileStore {
  put(bytes: Buffer, type: ImageType, folder: string): Promise<{ key: string; url: string }>;
  get(key: string): Promise<{ bytes: Buffer; type: ImageType } | undefined>;
  /** Releases connections (an S3 client's sockets); the store is unusable afterwards. */
  close?(): void;
}
