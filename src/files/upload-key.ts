import { randomBytes } from 'node:crypto';
import { imageExtensions, type ImageType } from '../domain/image-type.js';

const KEY = /^[a-z]{1,16}\/[A-Za-z0-9_-]{16,64}\.(png|jpg|gif|webp)$/;

/**
 * Upload keys, the same for every FileStore: `<folder>/<24 random base64url chars>.<ext>`.
 * Random, so URLs cannot be guessed from ids; checked on the way back in, so a request path
 * can never name anything else (no traversal on disk, no foreign object in a bucket).
 */
export const uploadKey = {
  create(folder: string, type: ImageType): string {
    return `${folder}/${randomBytes(18).toString('base64url')}.${imageExtensions[type]}`;
  },
  isValid(key: string): boolean {
    return KEY.test(key);
  },
};
