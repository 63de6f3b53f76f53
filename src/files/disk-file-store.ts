import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sniffImage, type ImageType } from '../domain/image-type.js';
import type { FileStore } from '../ports/file-store.js';
import { silentLogger, type Logger } from '../ports/logger.js';
import { storageUnavailable } from './storage-unavailable.js';
import { uploadKey } from './upload-key.js';

/** Read errors that mean "no such file" rather than "the disk is failing". */
const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

/** Uploads on local disk under `root`, served back at `<baseUrl>/<key>`. */
export class DiskFileStore implements FileStore {
  constructor(
    private readonly root: string,
    private readonly baseUrl: string,
    private readonly log: Logger = silentLogger,
  ) {}

  async put(bytes: Buffer, type: ImageType, folder: string): Promise<{ key: string; url: string }> {
    const key = uploadKey.create(folder, type);
    try {
      await mkdir(join(this.root, folder), { recursive: true });
      await writeFile(join(this.root, key), bytes, { flag: 'wx' });
    } catch (err) {
      throw storageUnavailable(this.log, 'put', err);
    }
    return { key, url: `${this.baseUrl}/${key}` };
  }

  async get(key: string): Promise<{ bytes: Buffer; type: ImageType } | undefined> {
    if (!uploadKey.isValid(key)) return undefined;
    let bytes: Buffer;
    try {
      bytes = await readFile(join(this.root, key));
    } catch (err) {
      if (ABSENT.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
      throw storageUnavailable(this.log, 'get', err);
    }
    const type = sniffImage(bytes);
    return type ? { bytes, type } : undefined;
  }
}
