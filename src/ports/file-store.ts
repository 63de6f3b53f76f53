import type { ImageType } from '../domain/image-type.js';

/** Stored uploads. Keys are opaque and URL-safe; the same key always serves the same bytes. */
export interface FileStore {
  put(bytes: Buffer, type: ImageType, folder: string): Promise<{ key: string; url: string }>;
  get(key: string): Promise<{ bytes: Buffer; type: ImageType } | undefined>;
}
