import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sniffImage, type ImageType } from '../domain/image-type.js';
import type { FileStore } from '../ports/file-store.js';
import type { Logger } from '../ports/logger.js';
import { storageUnavailable } from './storage-unavailable.js';
import { uploadKey } from './upload-key.js';

export interface S3FileStoreOptions {
  readonly endpoint: string;
  readonly region: string;
  readonly bucket: string;
  readonly accessKey: string;
  readonly secretKey: string;
  /** Where the bucket's objects are publicly readable (`<publicUrl>/<key>`), or null. */
  readonly publicUrl: string | null;
  /** Where this server serves uploads itself (`<serveUrl>/<key>`): used when publicUrl is null. */
  readonly serveUrl: string;
  readonly log: Logger;
}

/**
 * What the check at start found. Only a missing bucket is certainly a configuration error: a
 * refusal may be an upload-only policy (no ListBucket), and an outage may pass.
 */
export type BucketCheck = 'ok' | 'missing' | 'refused' | 'unreachable';

/**
 * Uploads in an S3-compatible bucket (AWS, MinIO, …), under the same keys as on disk.
 *
 * The returned URL is the public bucket URL when one is configured; otherwise this server's
 * own `/uploads/<key>`, which reads the object with the server's credentials, so clients never
 * need any. Either way the object carries its sniffed Content-Type and an immutable cache
 * lifetime (keys are never reused).
 */
export class S3FileStore implements FileStore {
  private readonly client: S3Client;

  constructor(private readonly options: S3FileStoreOptions) {
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      credentials: { accessKeyId: options.accessKey, secretAccessKey: options.secretKey },
      // Path-style (`<endpoint>/<bucket>/<key>`) works on AWS and on every S3-compatible server;
      // virtual-host style needs DNS per bucket, which MinIO and local servers rarely have.
      forcePathStyle: true,
      // Checksum trailers (the SDK's default since 2025) are refused by many S3-compatible
      // servers; SigV4 already signs the payload hash.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // An outage answers 503 quickly instead of holding the upload request open.
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000 },
    });
  }

  async put(bytes: Buffer, type: ImageType, folder: string): Promise<{ key: string; url: string }> {
    const key = uploadKey.create(folder, type);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: key,
          Body: bytes,
          ContentLength: bytes.length,
          ContentType: type,
          CacheControl: 'public, max-age=31536000, immutable',
        }),
      );
    } catch (err) {
      throw storageUnavailable(this.options.log, 'put', err);
    }
    const base = this.options.publicUrl?.replace(/\/+$/, '') ?? this.options.serveUrl;
    return { key, url: `${base}/${key}` };
  }

  async get(key: string): Promise<{ bytes: Buffer; type: ImageType } | undefined> {
    if (!uploadKey.isValid(key)) return undefined;
    let bytes: Buffer;
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
      if (!object.Body) return undefined;
      bytes = Buffer.from(await object.Body.transformToByteArray());
    } catch (err) {
      if (isMissingObject(err)) return undefined;
      throw storageUnavailable(this.options.log, 'get', err);
    }
    const type = sniffImage(bytes);
    return type ? { bytes, type } : undefined;
  }

  /**
   * One read at start, of a key no upload can have: "no such key" proves bucket and credentials
   * good. A GET rather than HeadBucket, which needs ListBucket rights and has no error body to
   * tell a missing bucket from a missing key.
   */
  async checkBucket(): Promise<BucketCheck> {
    try {
      await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: 'polychat-start-check' }));
      return 'ok';
    } catch (err) {
      const name = (err as { name?: unknown } | undefined)?.name;
      if (name === 'NoSuchBucket') return 'missing';
      if (isMissingObject(err)) return 'ok';
      const code = status(err);
      return code === 401 || code === 403 ? 'refused' : 'unreachable';
    }
  }

  close(): void {
    this.client.destroy();
  }
}

function status(err: unknown): unknown {
  return (err as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
}

/** A key that names nothing is a 404; a bucket that vanished is an outage, not a missing image. */
function isMissingObject(err: unknown): boolean {
  const name = (err as { name?: unknown } | undefined)?.name;
  return name === 'NoSuchKey' || (status(err) === 404 && name !== 'NoSuchBucket');
}
