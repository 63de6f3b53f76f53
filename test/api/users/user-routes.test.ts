import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, tokenFor, type TestServer } from '../../support/test-server.js';

describe.each(backends)('user lookups (/api/users) on %s', (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(backend);
  });
  afterAll(async () => t.close());

  it('finds a built-in account by username, case-insensitively, with only public fields', async () => {
    const me = await registerUser(t);
    const reg = await api(t, null, 'POST', '/auth/register', { username: 'Lookup_Lena', password: 'password123', email: 'lena@example.com', name: 'Lena L.' });
    expect(reg.status).toBe(201);
    const res = await api(t, me, 'GET', '/api/users/by-username/lookup_lena');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: reg.body.user.id, username: 'Lookup_Lena', name: 'Lena L.' });
    expect(JSON.stringify(res.body)).not.toContain('lena@example.com');
  });

  it('finds a user known from an identity-provider token, and falls back to the username for name', async () => {
    const me = await registerUser(t);
    const token = await tokenFor('idp-user-7', { username: 'idp_seven' });
    expect((await fetch(`${t.url}/auth/whoami`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const res = await api(t, me, 'GET', '/api/users/by-username/idp_seven');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'idp-user-7', username: 'idp_seven', name: 'idp_seven' });
  });

  it('answers 404 for an unknown username and 401 without a token', async () => {
    const me = await registerUser(t);
    const unknown = await api(t, me, 'GET', '/api/users/by-username/nobody_by_that_name');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: expect.any(String) });
    expect((await api(t, null, 'GET', '/api/users/by-username/nobody')).status).toBe(401);
    expect((await api(t, null, 'GET', `/api/users/${me.id}`)).status).toBe(401);
  });

  it('resolves a user id to its card (404 unknown)', async () => {
    const me = await registerUser(t);
    const other = await registerUser(t);
    const res = await api(t, me, 'GET', `/api/users/${other.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: other.id, username: other.username, name: other.username });
    const encoded = await api(t, me, 'GET', `/api/users/${encodeURIComponent('no such user')}`);
    expect(encoded.status).toBe(404);
  });

  it('lists the lookups in the OpenAPI document', async () => {
    const doc = await api(t, null, 'GET', '/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/users/by-username/{username}', '/api/users/{userId}']));
  });
});
