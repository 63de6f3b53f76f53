import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { imageExtensions, sniffImage, type ImageType } from '../domain/image-type.js';
import type { FileStore } from '../ports/file-store.js';

const KEY = /^[a-z]{1,16}\/[A-Za-z0-9_-]{16,64}\.(png|jpg|gif|webp)$/;

/**
 * Uploads on local disk under `root`, served back at `<baseUrl>/<key>`. Keys are random, so
 * URLs cannot be guessed from ids, and are validated on the way back in (no path traversal).
 */
export class DiskFileStore implements FileStore {
  constructor(
    private readonly root: string,
    private readonly baseUrl: string,
  ) {}

  async put(bytes: Buffer, type: ImageType, folder: string): Promise<{ key: string; url: string }> {
    const key = `${folder}/${randomBytes(18).toString('base64url')}.${imageExtensions[type]}`;
    await mkdir(join(this.root, folder), { recursive: true });
    await writeFile(join(this.root, key), bytes, { flag: 'wx' });
    return { key, url: `${this.baseUrl}/${key}` };
  }

  async get(key: string): Promise<{ bytes: Buffer; type: ImageType } | undefined> {
    if (!KEY.test(key)) return undefined;
    let bytes: Buffer;
    try {
      bytes = await readFile(join(this.root, key));
    } catch {
      return undefined;
    }
    const type = sniffImage(bytes);
    return type ? { bytes, type } : undefined;
  }
}
