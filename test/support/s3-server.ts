import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from '@20minutes/s3rver';

/** The fixed key pair s3rver accepts (it signs with no other). */
export const S3_ACCESS_KEY = 'S3RVER';
export const S3_SECRET_KEY = 'S3RVER';

export interface TestS3Server {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly bucket: string;
  /** Environment that points a server at this bucket. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Stops answering (connections are cut): an outage. Objects are kept. */
  stop(): Promise<void>;
  /** Answers again on the same port, with the objects stored before (no-op while running). */
  restart(): Promise<void>;
  /** Stops and removes its data. */
  close(): Promise<void>;
}

/**
 * A real S3-protocol server (s3rver, in this process) on a free loopback port, with one
 * bucket, storing objects in a temp directory of its own.
 */
export async function startS3Server(bucket = 'polychat-test'): Promise<TestS3Server> {
  const directory = mkdtempSync(join(tmpdir(), 'chat-s3-'));
  let port = 0;
  let server: S3rver | null = null;
  const start = async (): Promise<void> => {
    if (server) return;
    const s3 = new S3rver({ address: '127.0.0.1', port, directory, silent: true, vhostBuckets: false, configureBuckets: [{ name: bucket }] });
    const address = await s3.run();
    port = address.port;
    server = s3;
  };
  const stop = async (): Promise<void> => {
    const s3 = server;
    if (!s3) return;
    server = null;
    // The SDK keeps sockets alive; without this, close() would wait for them forever.
    s3.httpServer?.closeAllConnections();
    await s3.close();
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: (extra = {}) => ({ S3_ENDPOINT: endpoint, S3_BUCKET: bucket, S3_ACCESS_KEY, S3_SECRET_KEY, ...extra }),
    stop,
    restart: start,
    async close() {
      await stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
