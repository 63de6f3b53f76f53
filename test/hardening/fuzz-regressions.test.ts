import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { registerUser, startServer, type TestServer, type TestUser } from '../support/test-server.js';

/** Bugs the fuzzers found, pinned as plain examples. */
describe.each(backends)('fuzz findings on %s', (backend) => {
  let t: TestServer;
  let owner: TestUser;
  let group: number;
  beforeAll(async () => {
    t = await startServer(backend);
    owner = await registerUser(t);
    group = (await t.server.core.createGroup(owner.id, { name: 'g', memberIds: [] })).id;
  });
  afterAll(async () => t.close());

  it('stomp avatar upload: a truncated multipart body is a 400, not a 500', async () => {
    const body = '--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n0000';
    const res = await fetch(`${t.url}/api/chats/${group}/avatar`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'multipart/form-data; boundary=b' },
      body,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'Malformed multipart body' });
  });
});
