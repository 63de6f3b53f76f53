import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isChatError } from '../../src/domain/errors.js';
import type { ImageType } from '../../src/domain/image-type.js';
import { DiskFileStore } from '../../src/files/disk-file-store.js';
import { S3FileStore } from '../../src/files/s3-file-store.js';
import type { FileStore } from '../../src/ports/file-store.js';
import type { Logger } from '../../src/ports/logger.js';
import { makePng } from '../api/rooms/rooms-helpers.js';
import { recordingLogger } from '../support/recording-logger.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, startS3Server, type TestS3Server } from '../support/s3-server.js';

const SERVE_URL = 'https://chat.example/uploads';

/** One sample of each accepted type: real headers, enough of a body to be told apart. */
const SAMPLES: Record<ImageType, Buffer> = {
  'image/png': makePng(2, 3),
  'image/jpeg': Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('JFIF jpeg body'), Buffer.from([0xff, 0xd9])]),
  'image/gif': Buffer.concat([Buffer.from('GIF89a'), Buffer.from([1, 0, 1, 0, 0, 0, 0, 0x3b])]),
  'image/webp': Buffer.concat([Buffer.from('RIFF'), Buffer.from([20, 0, 0, 0]), Buffer.from('WEBPVP8 webp body')]),
};
const EXT: Record<ImageType, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp' };

/** A backend shared by every store `open()` returns (several server instances, one storage). */
interface Backend {
  open(log?: Logger): FileStore;
  /** Writes raw bytes under a key, behind the store's back (what a bucket or disk may hold). */
  plant(key: string, bytes: Buffer): Promise<void>;
  /** Makes the storage fail (unreachable / unwritable) until `repair()`. */
  break(): Promise<void>;
  repair(): Promise<void>;
  /** What `get` of a stored key answers while broken: a disk whose tree is gone has no file. */
  readonly readWhileBroken: 'unavailable' | 'absent';
  close(): Promise<void>;
}
interface Implementation {
  readonly name: string;
  backend(): Promise<Backend>;
}

const disk: Implementation = {
  name: 'disk',
  async backend() {
    const base = mkdtempSync(join(tmpdir(), 'chat-files-'));
    const root = join(base, 'uploads');
    const stores: FileStore[] = [];
    return {
      open: (log) => {
        const store = new DiskFileStore(root, SERVE_URL, log);
        stores.push(store);
        return store;
      },
      async plant(key, bytes) {
        await mkdir(dirname(join(root, key)), { recursive: true });
        await writeFile(join(root, key), bytes);
      },
      // The upload tree replaced by a plain file: every mkdir and write under it fails.
      async break() {
        renameSync(root, `${root}.away`);
        writeFileSync(root, 'not a directory');
      },
      async repair() {
        rmSync(root);
        renameSync(`${root}.away`, root);
      },
      readWhileBroken: 'absent',
      async close() {
        rmSync(base, { recursive: true, force: true });
      },
    };
  },
};

const s3: Implementation = {
  name: 's3',
  async backend() {
    const server: TestS3Server = await startS3Server();
    const raw = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY } });
    const stores: S3FileStore[] = [];
    return {
      open: (log = recordingLogger()) => {
        const store = new S3FileStore({ endpoint: server.endpoint, region: 'us-east-1', bucket: server.bucket, accessKey: S3_ACCESS_KEY, secretKey: S3_SECRET_KEY, publicUrl: null, serveUrl: SERVE_URL, log });
        stores.push(store);
        return store;
      },
      async plant(key, bytes) {
        await raw.send(new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: bytes }));
      },
      break: () => server.stop(),
      repair: () => server.restart(),
      readWhileBroken: 'unavailable',
      async close() {
        for (const store of stores) store.close();
        raw.destroy();
        await server.close();
      },
    };
  },
};

async function unavailable(promise: Promise<unknown>): Promise<boolean> {
  try {
    await promise;
    return false;
  } catch (err) {
    return isChatError(err) && err.code === 'unavailable' && err.status === 503;
  }
}

describe.each([disk, s3])('FileStore conformance: $name', (impl) => {
  let backend: Backend;
  let store: FileStore;
  beforeAll(async () => {
    backend = await impl.backend();
    store = backend.open();
  });
  afterAll(async () => backend.close());

  it('stores each image type under a fresh key in its folder and reads back the same bytes and type', async () => {
    for (const [type, bytes] of Object.entries(SAMPLES) as [ImageType, Buffer][]) {
      const { key, url } = await store.put(bytes, type, 'groups');
      expect(key).toMatch(new RegExp(`^groups/[A-Za-z0-9_-]{24}\\.${EXT[type]}$`));
      expect(url).toBe(`${SERVE_URL}/${key}`);
      const back = await store.get(key);
      expect(back?.type).toBe(type);
      expect(Buffer.compare(back!.bytes, bytes)).toBe(0);
    }
  });

  it('never reuses a key: the same bytes twice are two objects, each readable', async () => {
    const bytes = SAMPLES['image/png'];
    const a = await store.put(bytes, 'image/png', 'users');
    const b = await store.put(bytes, 'image/png', 'users');
    expect(a.key).not.toBe(b.key);
    expect((await store.get(a.key))?.bytes.equals(bytes)).toBe(true);
    expect((await store.get(b.key))?.bytes.equals(bytes)).toBe(true);
  });

  it('another store on the same storage (another server instance) reads what this one wrote', async () => {
    const { key } = await store.put(SAMPLES['image/gif'], 'image/gif', 'groups');
    const other = backend.open();
    expect((await other.get(key))?.bytes.equals(SAMPLES['image/gif'])).toBe(true);
  });

  it('answers undefined for a well-formed key that names nothing', async () => {
    expect(await store.get('groups/AAAAAAAAAAAAAAAAAAAAAAAA.png')).toBeUndefined();
    expect(await store.get('nosuchfolder/AAAAAAAAAAAAAAAAAAAAAAAA.jpg')).toBeUndefined();
  });

  it('refuses malformed keys without reading them, even when something sits at that path', async () => {
    const png = SAMPLES['image/png'];
    // Objects a store would never have written: outside any folder, nested, wrong extension.
    const planted = ['loose.png', 'groups/nested/AAAAAAAAAAAAAAAAAAAAAAAA.png', 'groups/AAAAAAAAAAAAAAAAAAAAAAAA.svg', 'Groups/AAAAAAAAAAAAAAAAAAAAAAAA.png'];
    for (const key of planted) await backend.plant(key, png);
    for (const key of [...planted, '', '/etc/passwd', '../uploads/groups/AAAAAAAAAAAAAAAAAAAAAAAA.png', 'groups/../loose.png', 'groups/%2e%2e%2floose.png', 'groups/short.png']) {
      expect(await store.get(key), key).toBeUndefined();
    }
  });

  it('serves only images: non-image bytes found under a valid key are not returned', async () => {
    const key = 'groups/BBBBBBBBBBBBBBBBBBBBBBBB.png';
    await backend.plant(key, Buffer.from('<svg onload="alert(1)"></svg>'));
    expect(await store.get(key)).toBeUndefined();
  });

  it('reports broken storage as unavailable (503), logged without secrets, and recovers when it is back', async () => {
    const log = recordingLogger();
    const watched = backend.open(log);
    const { key } = await watched.put(SAMPLES['image/webp'], 'image/webp', 'groups');
    await backend.break();
    try {
      expect(await unavailable(watched.put(SAMPLES['image/png'], 'image/png', 'groups'))).toBe(true);
      if (backend.readWhileBroken === 'unavailable') expect(await unavailable(watched.get(key))).toBe(true);
      else expect(await watched.get(key)).toBeUndefined();
    } finally {
      await backend.repair();
    }
    expect(log.lines.some((line) => line.includes('file storage failed'))).toBe(true);
    expect(log.lines.join('\n')).not.toContain(S3_SECRET_KEY);
    expect((await watched.get(key))?.bytes.equals(SAMPLES['image/webp'])).toBe(true);
    const again = await watched.put(SAMPLES['image/png'], 'image/png', 'groups');
    expect((await watched.get(again.key))?.type).toBe('image/png');
  });
});
