import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/app/config.js';
import { createLogger } from '../../../src/app/create-logger.js';
import { backends } from '../../support/backends.js';
import { S3_SECRET_KEY, startS3Server, type TestS3Server } from '../../support/s3-server.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';
import { makePng, sendForm } from '../rooms/rooms-helpers.js';

const MAX_UPLOAD = 8192;

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function bytesAt(url: string): Promise<{ status: number; type: string | null; nosniff: string | null; bytes: Buffer }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type'), nosniff: res.headers.get('x-content-type-options'), bytes: Buffer.from(await res.arrayBuffer()) };
}

/** A stomp chat avatar upload, as a browser's FormData sends it. */
async function uploadStompAvatar(t: TestServer, user: TestUser, chatId: string, bytes: Buffer): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type: 'image/png' }), 'avatar.png');
  return fetch(`${t.url}/api/chats/${chatId}/avatar`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: form });
}

/** Every file under the server's own upload directory (S3 mode must leave it empty). */
function diskUploads(t: TestServer): string[] {
  const dir = join(t.dataDir, 'uploads');
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : [];
}

describe.each(backends)('uploads in S3 on %s', (backend) => {
  let s3: TestS3Server;
  beforeAll(async () => {
    s3 = await startS3Server();
  });
  afterAll(async () => s3.close());

  describe('served by the server (no S3_PUBLIC_URL)', () => {
    let t: TestServer;
    let alice: TestUser;
    let bob: TestUser;
    const logs = new Capture();
    beforeAll(async () => {
      t = await startServer(backend, { env: s3.env({ MAX_UPLOAD_BYTES: String(MAX_UPLOAD), LOG_LEVEL: 'debug' }), logger: createLogger('debug', logs) });
      [alice, bob] = [await registerUser(t), await registerUser(t)];
    });
    afterAll(async () => {
      if (!t) return;
      await s3.restart();
      await t.close();
    });

    it('a rooms group photo lands in the bucket and its returned URL serves the same bytes', async () => {
      const photo = makePng(4, 3);
      const created = await sendForm(t, alice, '/api/v1/group', { json: { name: 'S3 team', users: [{ id: Number(bob.id) }] }, photo });
      expect(created.status).toBe(200);
      const info = await api(t, bob, 'GET', `/api/v1/group/${created.body.group.id}/info`);
      expect(info.body.avatar).toMatch(/^\/uploads\/groups\/[A-Za-z0-9_-]{24}\.png$/);

      const served = await bytesAt(`${t.url}${info.body.avatar}`);
      expect(served).toMatchObject({ status: 200, type: 'image/png', nosniff: 'nosniff' });
      expect(served.bytes.equals(photo)).toBe(true);
      // The object is in the bucket under the same key (read straight from the S3 server), not on disk.
      const inBucket = await bytesAt(`${s3.endpoint}/${s3.bucket}/${info.body.avatar.slice('/uploads/'.length)}`);
      expect(inBucket.status).toBe(200);
      expect(inBucket.bytes.equals(photo)).toBe(true);
      expect(diskUploads(t)).toEqual([]);
    });

    it('a stomp chat avatar lands in the bucket and its returned URL serves the same bytes', async () => {
      const g = await api(t, alice, 'POST', '/api/chats', { type: 'group', name: 'Avatars', participantIds: [bob.id] });
      const avatar = makePng(2, 5);
      const res = await uploadStompAvatar(t, alice, g.body.id, avatar);
      expect(res.status).toBe(200);
      const { avatarUrl } = (await res.json()) as { avatarUrl: string };
      expect(avatarUrl).toMatch(/^\/uploads\/chats\/[A-Za-z0-9_-]{24}\.png$/);
      const served = await bytesAt(`${t.url}${avatarUrl}`);
      expect(served).toMatchObject({ status: 200, type: 'image/png' });
      expect(served.bytes.equals(avatar)).toBe(true);
      expect((await api(t, bob, 'GET', `/api/chats/${g.body.id}`)).body.avatarUrl).toBe(avatarUrl);
    });

    it('keeps the same content checks and size limit as disk (415, 413), storing nothing', async () => {
      const g = await api(t, alice, 'POST', '/api/chats', { type: 'group', name: 'Checks', participantIds: [] });
      expect((await uploadStompAvatar(t, alice, g.body.id, Buffer.from('<svg onload="alert(1)"></svg>'))).status).toBe(415);
      expect((await uploadStompAvatar(t, alice, g.body.id, Buffer.concat([makePng(), Buffer.alloc(MAX_UPLOAD * 2)]))).status).toBe(413);
      expect((await sendForm(t, alice, '/api/v1/group', { json: { name: 'g' }, photo: Buffer.from('GIF87 is not quite a gif') })).status).toBe(415);
      expect((await api(t, alice, 'GET', `/api/chats/${g.body.id}`)).body.avatarUrl).toBeNull();
    });

    it('while S3 is down: uploads and reads answer 503 with Retry-After, unknown keys 404, no secret logged; then recover', async () => {
      const g = await api(t, alice, 'POST', '/api/chats', { type: 'group', name: 'Outage', participantIds: [] });
      const before = await uploadStompAvatar(t, alice, g.body.id, makePng(1, 2));
      const { avatarUrl } = (await before.json()) as { avatarUrl: string };
      await s3.stop();
      try {
        const upload = await uploadStompAvatar(t, alice, g.body.id, makePng(3, 3));
        expect(upload.status).toBe(503);
        expect(Number(upload.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await upload.json()).toEqual({ error: expect.any(String) });
        // The group photo is stored before the group: an outage creates no group without its photo.
        const rooms = async (): Promise<number> => ((await api(t, alice, 'GET', '/api/v1/chats')).body.rooms as unknown[]).length;
        const roomsBefore = await rooms();
        const group = await sendForm(t, alice, '/api/v1/group', { json: { name: 'Not now' }, photo: makePng() });
        expect(group.status).toBe(503);
        expect(await rooms()).toBe(roomsBefore);

        const read = await fetch(`${t.url}${avatarUrl}`);
        expect(read.status).toBe(503);
        expect(read.headers.get('retry-after')).not.toBeNull();
        expect((await fetch(`${t.url}/uploads/groups/../../etc/passwd`)).status).toBe(404);
        expect((await fetch(`${t.url}/uploads/not-a-key`)).status).toBe(404);
        // Chat itself is unaffected.
        expect((await api(t, alice, 'POST', `/api/chats/${g.body.id}/messages`, { content: 'still here' })).status).toBe(201);
      } finally {
        await s3.restart();
      }
      expect(logs.text).toContain('file storage failed');
      expect(logs.text).not.toContain(S3_SECRET_KEY);
      expect(logs.text).not.toMatch(/"stack"|\n\s+at /);
      expect((await api(t, alice, 'GET', `/api/chats/${g.body.id}`)).body.avatarUrl).toBe(avatarUrl);
      const again = await uploadStompAvatar(t, alice, g.body.id, makePng(3, 3));
      expect(again.status).toBe(200);
      expect((await bytesAt(`${t.url}${avatarUrl}`)).bytes.equals(makePng(1, 2))).toBe(true);
    });
  });

  describe('S3_PUBLIC_URL set', () => {
    let t: TestServer;
    let alice: TestUser;
    beforeAll(async () => {
      t = await startServer(backend, { env: s3.env({ S3_PUBLIC_URL: `${s3.endpoint}/${s3.bucket}/` }) });
      alice = await registerUser(t);
    });
    afterAll(async () => t?.close());

    it('returns the public bucket URL for rooms and stomp uploads, which serves the image; the server path works too', async () => {
      const photo = makePng(5, 1);
      const created = await sendForm(t, alice, '/api/v1/group', { json: { name: 'Public' }, photo });
      const info = await api(t, alice, 'GET', `/api/v1/group/${created.body.group.id}/info`);
      expect(info.body.avatar.startsWith(`${s3.endpoint}/${s3.bucket}/groups/`)).toBe(true);
      const publicRead = await bytesAt(info.body.avatar);
      expect(publicRead).toMatchObject({ status: 200, type: 'image/png' });
      expect(publicRead.bytes.equals(photo)).toBe(true);

      const g = await api(t, alice, 'POST', '/api/chats', { type: 'group', name: 'Public avatar', participantIds: [] });
      const avatar = makePng(1, 4);
      const { avatarUrl } = (await (await uploadStompAvatar(t, alice, g.body.id, avatar)).json()) as { avatarUrl: string };
      expect(avatarUrl.startsWith(`${s3.endpoint}/${s3.bucket}/chats/`)).toBe(true);
      expect((await bytesAt(avatarUrl)).bytes.equals(avatar)).toBe(true);
      const key = avatarUrl.slice(`${s3.endpoint}/${s3.bucket}/`.length);
      expect((await bytesAt(`${t.url}/uploads/${key}`)).bytes.equals(avatar)).toBe(true);
      expect(diskUploads(t)).toEqual([]);
    });
  });

  describe('at start', () => {
    it('a bucket that does not exist stops the start, naming S3_BUCKET', async () => {
      await expect(startServer(backend, { env: s3.env({ S3_BUCKET: 'no-such-bucket' }) })).rejects.toMatchObject({ name: 'ConfigError', variable: 'S3_BUCKET' });
    });

    it('refused credentials do not stop the start; uploads answer 503 and the secret is never logged', async () => {
      const wrongSecret = 'wrong-secret-key-0123456789abcdef';
      const logs = new Capture();
      const t = await startServer(backend, { env: s3.env({ S3_SECRET_KEY: wrongSecret, LOG_LEVEL: 'debug' }), logger: createLogger('debug', logs) });
      try {
        const alice = await registerUser(t);
        const g = await api(t, alice, 'POST', '/api/chats', { type: 'group', name: 'Denied', participantIds: [] });
        const res = await uploadStompAvatar(t, alice, g.body.id, makePng());
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).not.toBeNull();
      } finally {
        await t.close();
      }
      expect(logs.text).toContain('S3 refused the start check');
      expect(logs.text).toContain('file storage failed');
      expect(logs.text).not.toContain(wrongSecret);
    });
  });
});

describe('S3 settings are validated', () => {
  const full = { S3_ENDPOINT: 'http://127.0.0.1:9000', S3_BUCKET: 'b', S3_ACCESS_KEY: 'k', S3_SECRET_KEY: 's' };
  it('needs bucket and keys with an endpoint, valid URLs, and defaults the region', () => {
    for (const name of ['S3_BUCKET', 'S3_ACCESS_KEY', 'S3_SECRET_KEY']) {
      expect(() => loadConfig({ ...full, [name]: '' })).toThrow(new RegExp(`^${name}: is required when S3_ENDPOINT is set`));
    }
    expect(() => loadConfig({ ...full, S3_ENDPOINT: 'ftp://x' })).toThrow(/^S3_ENDPOINT:/);
    expect(() => loadConfig({ ...full, S3_PUBLIC_URL: 'not a url' })).toThrow(/^S3_PUBLIC_URL:/);
    expect(loadConfig(full).s3).toEqual({ endpoint: full.S3_ENDPOINT, region: 'us-east-1', bucket: 'b', accessKey: 'k', secretKey: 's', publicUrl: null });
    expect(loadConfig({ ...full, S3_REGION: 'eu-west-3', S3_PUBLIC_URL: 'https://cdn.example/b/' }).s3).toMatchObject({ region: 'eu-west-3', publicUrl: 'https://cdn.example/b' });
    expect(loadConfig({ S3_BUCKET: 'ignored without an endpoint' }).s3).toBeNull();
  });
});
