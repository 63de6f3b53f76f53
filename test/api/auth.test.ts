import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { api, startServer, TEST_SECRET, tokenFor, type TestServer } from '../support/test-server.js';

describe.each(backends)('auth on %s', (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(backend);
  });
  afterAll(async () => t.close());

  // A protected route every build has, whatever dialects are registered.
  const probe = (token: string | null) =>
    fetch(`${t.url}/auth/whoami`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('registers, logs in by username and by email, and the token works', async () => {
    const reg = await api(t, null, 'POST', '/auth/register', { username: 'carol', password: 'long enough pw', email: 'carol@example.com', name: 'Carol' });
    expect(reg.status).toBe(201);
    expect(reg.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 86400, user: { username: 'carol', email: 'carol@example.com', name: 'Carol' } });
    expect(reg.body.user.id).toMatch(/^\d+$/);
    expect(JSON.stringify(reg.body)).not.toContain('long enough pw');

    const byName = await api(t, null, 'POST', '/auth/login', { username: 'carol', password: 'long enough pw' });
    expect(byName.status).toBe(200);
    const byEmail = await api(t, null, 'POST', '/auth/login', { email: 'CAROL@example.com', password: 'long enough pw' });
    expect(byEmail.status).toBe(200);
    expect(byEmail.body.user.id).toBe(reg.body.user.id);

    const me = await probe(byName.body.accessToken);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: reg.body.user.id, username: 'carol' });
  });

  it('gives built-in accounts consecutive numeric ids', async () => {
    const a = await api(t, null, 'POST', '/auth/register', { username: 'num_a', password: 'password123' });
    const b = await api(t, null, 'POST', '/auth/register', { username: 'num_b', password: 'password123' });
    expect(Number(b.body.user.id)).toBe(Number(a.body.user.id) + 1);
  });

  it('refuses duplicates with 409 and bad input with 400', async () => {
    await api(t, null, 'POST', '/auth/register', { username: 'dave', password: 'password123', email: 'dave@example.com' });
    expect((await api(t, null, 'POST', '/auth/register', { username: 'DAVE', password: 'password123' })).status).toBe(409);
    expect((await api(t, null, 'POST', '/auth/register', { username: 'dave2', password: 'password123', email: 'dave@example.com' })).status).toBe(409);
    const short = await api(t, null, 'POST', '/auth/register', { username: 'erin', password: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.error).toMatch(/password/);
    expect((await api(t, null, 'POST', '/auth/register', { username: 'x', password: 'password123' })).status).toBe(400);
    expect((await api(t, null, 'POST', '/auth/register', { username: 42, password: 'password123' })).status).toBe(400);
    expect((await api(t, null, 'POST', '/auth/register', '{"username":')).status).toBe(400);
    expect((await api(t, null, 'POST', '/auth/register', [])).status).toBe(400);
    const big = await api(t, null, 'POST', '/auth/register', { username: 'big', password: 'x'.repeat(2 * 1024 * 1024) });
    expect(big.status).toBe(413);
    expect(big.body).toEqual({ error: expect.any(String) });
  });

  it('answers bad credentials with 401 and the same message for unknown users', async () => {
    await api(t, null, 'POST', '/auth/register', { username: 'frank', password: 'password123' });
    const wrong = await api(t, null, 'POST', '/auth/login', { username: 'frank', password: 'password124' });
    const unknown = await api(t, null, 'POST', '/auth/login', { username: 'nobody_here', password: 'password123' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
  });

  it('refuses missing, expired, forged and unsigned tokens with 401', async () => {
    expect((await probe(null)).status).toBe(401);
    expect((await probe('garbage')).status).toBe(401);
    expect((await probe(await tokenFor('u-exp', {}, { expiresIn: '-10s' }))).status).toBe(401);
    expect((await probe(await tokenFor('u-forged', {}, { secret: 'another-secret-another-secret-another-secret' }))).status).toBe(401);
    const none = new UnsecuredJWT({}).setSubject('u-none').setIssuedAt().setExpirationTime('1h').encode();
    expect((await probe(none)).status).toBe(401);
    // The right secret but an algorithm the server does not accept for it.
    const hs512 = await new SignJWT({}).setProtectedHeader({ alg: 'HS512' }).setSubject('u-512').setExpirationTime('1h').sign(new TextEncoder().encode(TEST_SECRET));
    expect((await probe(hs512)).status).toBe(401);
    const body = await (await probe(null)).json();
    expect(body).toEqual({ error: expect.any(String) });
  });

  it('provisions a user from an external token and refreshes its profile from claims', async () => {
    const first = await probe(await tokenFor('ext-1', { preferred_username: 'ext', email: 'ext@example.com' }));
    expect(await first.json()).toMatchObject({ id: 'ext-1', username: 'ext', email: 'ext@example.com' });
    const second = await probe(await tokenFor('ext-1', { preferred_username: 'ext-renamed', given_name: 'Ex', family_name: 'Ternal' }));
    expect(await second.json()).toMatchObject({ id: 'ext-1', username: 'ext-renamed', firstName: 'Ex', lastName: 'Ternal', email: 'ext@example.com' });
  });

  it('keeps a profile edit while the token carries the same claims', async () => {
    const reg = await api(t, null, 'POST', '/auth/register', { username: 'editor', password: 'password123', name: 'Original' });
    const token = reg.body.accessToken as string;
    expect(((await (await probe(token)).json()) as { name: string }).name).toBe('Original');
    await t.server.core.updateProfile(reg.body.user.id, { name: 'Edited' });
    expect(((await (await probe(token)).json()) as { name: string }).name).toBe('Edited');
    expect(((await (await probe(token)).json()) as { name: string }).name).toBe('Edited');
  });

  it('accepts the token as ?token= and ?access_token=', async () => {
    const token = await tokenFor('q-1');
    expect((await fetch(`${t.url}/auth/whoami?token=${token}`)).status).toBe(200);
    expect((await fetch(`${t.url}/auth/whoami?access_token=${token}`)).status).toBe(200);
  });
});

describe('framework errors keep the JSON error shape', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer('sqlite');
  });
  afterAll(async () => t.close());

  it.each(['/api/v1/user/%ZZ', `/api/v1/user/${'a'.repeat(300)}`, '/api/chats/%E0%A4%A'])('%s → 4xx {"error"}', async (path) => {
    const res = await fetch(`${t.url}${path}`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await res.json()).toEqual({ error: expect.any(String) });
  });
});
