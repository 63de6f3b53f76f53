import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerUser, startServer, type TestServer, type TestUser } from '../support/test-server.js';

/**
 * Issue 16.5: a body over the limit is answered 413 in a way the client can read. The server
 * used to answer and close while the client was still sending, so the client saw a reset
 * (EPIPE/ECONNRESET), as a browser uploading a too-large photo sees a network error. Bodies
 * are sent in chunks over time, as a real upload is, so the client is still writing when the
 * server decides; every try must end with the answer, none with a reset.
 */

const TRIES = 20;
const CHUNK = 256 * 1024;

interface Outcome {
  readonly status: number | null;
  readonly body: string;
  readonly error: string | null;
}

/** POSTs `body` in chunks (waiting for each write to drain) and reports what the client saw. */
function upload(url: string, headers: Record<string, string>, body: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const u = new URL(url);
    let status: number | null = null;
    let text = '';
    let settled = false;
    const done = (error: string | null): void => {
      if (settled) return;
      settled = true;
      resolve({ status, body: text, error });
    };
    const req = http.request({ host: u.hostname, port: Number(u.port), path: u.pathname, method: 'POST', agent: false, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      status = res.statusCode ?? null;
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => done(null));
      res.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    });
    req.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    let offset = 0;
    const pump = (): void => {
      while (offset < body.length) {
        const chunk = body.subarray(offset, offset + CHUNK);
        offset += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', () => setImmediate(pump));
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

function multipart(boundary: string, parts: { name: string; filename?: string; type?: string; data: Buffer }[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\ncontent-disposition: ${disposition}\r\n${p.type ? `content-type: ${p.type}\r\n` : ''}\r\n`), p.data, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

describe('oversized bodies are answered 413, never reset', () => {
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let group: number;
  beforeAll(async () => {
    t = await startServer('sqlite');
    alice = await registerUser(t);
    bob = await registerUser(t);
    group = (await t.server.core.createGroup(alice.id, { name: 'uploads', memberIds: [bob.id] })).id;
  });
  afterAll(async () => t?.close());

  const tally = (outcomes: Outcome[]): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const o of outcomes) {
      const key = o.error ? `error ${o.error}` : `${o.status} ${o.body}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  };

  it(`a 10 MB JSON body to POST /api/v1/chat/direct/:user_id/send: ${TRIES} × 413 {"error"}`, async () => {
    const body = Buffer.from(JSON.stringify({ body: 'x'.repeat(10 * 1024 * 1024) }));
    const outcomes: Outcome[] = [];
    for (let i = 0; i < TRIES; i++) {
      outcomes.push(await upload(`${t.url}/api/v1/chat/direct/${bob.id}/send`, { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' }, body));
    }
    expect(tally(outcomes)).toEqual({ [`413 ${JSON.stringify({ error: 'Request body is too large' })}`]: TRIES });
  });

  it(`a 10 MB JSON body to STOMP's POST /api/chats/:id/messages: ${TRIES} × 413`, async () => {
    const body = Buffer.from(JSON.stringify({ content: 'x'.repeat(10 * 1024 * 1024) }));
    const outcomes: Outcome[] = [];
    for (let i = 0; i < TRIES; i++) {
      outcomes.push(await upload(`${t.url}/api/chats/${group}/messages`, { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' }, body));
    }
    expect(Object.keys(tally(outcomes))).toEqual([`413 ${JSON.stringify({ error: 'Request body is too large' })}`]);
  });

  it(`a 10 MB photo to rooms' multipart POST /api/v1/group: ${TRIES} × 413`, async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(10 * 1024 * 1024, 7)]);
    const boundary = 'polychat-test-boundary';
    const body = multipart(boundary, [
      { name: 'json', data: Buffer.from(JSON.stringify({ name: 'too big' })) },
      { name: 'photo', filename: 'p.png', type: 'image/png', data: png },
    ]);
    const outcomes: Outcome[] = [];
    for (let i = 0; i < TRIES; i++) {
      outcomes.push(await upload(`${t.url}/api/v1/group`, { authorization: `Bearer ${alice.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` }, body));
    }
    const counts = tally(outcomes);
    expect(Object.keys(counts), JSON.stringify(counts)).toHaveLength(1);
    const [only] = outcomes;
    expect(only!.error).toBeNull();
    expect(only!.status).toBe(413);
    expect(JSON.parse(only!.body)).toEqual({ error: expect.any(String) });
  });

  it(`a 10 MB avatar to STOMP's multipart POST /api/chats/:id/avatar: ${TRIES} × 413`, async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(10 * 1024 * 1024, 7)]);
    const boundary = 'polychat-test-boundary';
    const body = multipart(boundary, [{ name: 'file', filename: 'a.png', type: 'image/png', data: png }]);
    const outcomes: Outcome[] = [];
    for (let i = 0; i < TRIES; i++) {
      outcomes.push(await upload(`${t.url}/api/chats/${group}/avatar`, { authorization: `Bearer ${alice.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` }, body));
    }
    const counts = tally(outcomes);
    expect(Object.keys(counts), JSON.stringify(counts)).toHaveLength(1);
    expect(outcomes[0]!.status).toBe(413);
  });

  it(`a 10 MB body without a token: ${TRIES} × 401, readable`, async () => {
    const body = Buffer.from(JSON.stringify({ body: 'x'.repeat(10 * 1024 * 1024) }));
    const outcomes: Outcome[] = [];
    for (let i = 0; i < TRIES; i++) outcomes.push(await upload(`${t.url}/api/v1/chat/direct/${bob.id}/send`, { 'content-type': 'application/json' }, body));
    expect(Object.keys(tally(outcomes))).toEqual([`401 ${JSON.stringify({ error: 'Missing token' })}`]);
  });

  it('the server still answers normal requests afterwards', async () => {
    const res = await fetch(`${t.url}/api/v1/chat/direct/${bob.id}/send`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ body: 'small' }) });
    expect(res.status).toBeLessThan(300);
  });
});
