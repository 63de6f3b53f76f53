import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../support/test-server.js';
import { JsonSocket } from '../support/ws-client.js';
import { connect } from '../api/socketio/socketio-client.js';
import { fillPath, routesFromOpenApi, type RouteSpec } from './support/openapi-routes.js';

/**
 * Issue 16.1 and 16.2, through the public protocol:
 * - an anonymous request to any protected route of `/openapi.json` is `401` whatever its body,
 *   query or path: no schema detail reaches a caller without a token;
 * - an empty `limit=` / `offset=` is not a non-negative integer: `400` on every paged endpoint.
 */

/** Routes anyone may call; every other operation of the document needs a token. */
const PUBLIC = new Set(['GET /healthz', 'GET /readyz', 'GET /metrics', 'POST /auth/register', 'POST /auth/login', 'GET /uploads/{*}']);

interface Malformed {
  readonly name: string;
  readonly path: (r: RouteSpec) => string;
  readonly headers?: Record<string, string>;
  readonly body?: string | FormData;
}

const badPath = (r: RouteSpec): string => fillPath(r.path, Object.fromEntries(r.pathParams.map((p) => [p, 'not%20an%20id'])));
const badQuery = (r: RouteSpec): string => `${fillPath(r.path, {})}?limit=&offset=-1&since=yesterday&${r.queryParams.map((q) => `${q}=%00`).join('&')}`;
const json = { 'content-type': 'application/json' };

/** Each is wrong in a different way; a body only goes with methods that carry one. */
const MALFORMED: Malformed[] = [
  { name: 'empty JSON object', path: (r) => fillPath(r.path, {}), headers: json, body: '{}' },
  { name: 'broken JSON', path: (r) => fillPath(r.path, {}), headers: json, body: '{"type": ' },
  { name: 'JSON of the wrong type', path: (r) => fillPath(r.path, {}), headers: json, body: '[1, "x", null]' },
  { name: 'empty body declared as JSON', path: (r) => fillPath(r.path, {}), headers: json, body: '' },
  { name: 'unsupported content type', path: (r) => fillPath(r.path, {}), headers: { 'content-type': 'application/x-nonsense' }, body: 'a=b' },
  { name: 'multipart without the expected parts', path: (r) => fillPath(r.path, {}), body: (() => { const f = new FormData(); f.set('junk', 'x'); return f; })() },
  { name: 'malformed path parameters', path: badPath },
  { name: 'malformed query', path: badQuery },
  { name: 'everything malformed', path: (r) => badQuery({ ...r, path: badPath(r) }), headers: json, body: '{"' },
];

describe.each(backends)('authentication before validation on %s', (backend) => {
  let t: TestServer;
  let user: TestUser;
  let routes: RouteSpec[];
  beforeAll(async () => {
    t = await startServer(backend);
    user = await registerUser(t);
    routes = (await routesFromOpenApi(t)).filter((r) => !PUBLIC.has(r.key));
  });
  afterAll(async () => t?.close());

  it('the OpenAPI document has protected routes of every REST dialect', () => {
    const keys = routes.map((r) => r.key);
    for (const prefix of ['/api/v1/chat/conversations', '/api/v1/group', '/api/chats', '/auth/whoami']) expect(keys.some((k) => k.includes(prefix)), prefix).toBe(true);
    expect(routes.length).toBeGreaterThan(20);
  });

  it('POST /api/chats without a token and with an empty body is 401, not a schema error', async () => {
    const res = await api(t, null, 'POST', '/api/chats', {});
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: expect.any(String) });
    expect(JSON.stringify(res.body)).not.toMatch(/required|property|Invalid request/i);
  });

  it('every protected route answers 401 to an anonymous caller, however malformed the request', async () => {
    const failures: string[] = [];
    for (const route of routes) {
      for (const m of MALFORMED) {
        const carriesBody = route.method !== 'GET';
        if (m.body !== undefined && !carriesBody) continue;
        const res = await fetch(`${t.url}${m.path(route)}`, {
          method: route.method,
          ...(m.headers ? { headers: m.headers } : {}),
          ...(m.body !== undefined ? { body: m.body } : {}),
        });
        const text = await res.text();
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        const ok = res.status === 401 && typeof (body as { error?: unknown })?.error === 'string' && !/Invalid request|must|required|property/i.test(text);
        if (!ok) failures.push(`${route.key} with ${m.name}: ${res.status} ${text.slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('the same malformed requests with a token get a client error (the route really validates)', async () => {
    const res = await api(t, user, 'POST', '/api/chats', {});
    expect(res.status).toBe(400);
    const broken = await fetch(`${t.url}/api/chats`, { method: 'POST', headers: { ...json, authorization: `Bearer ${user.token}` }, body: '{"type": ' });
    expect(broken.status).toBe(400);
  });
});

describe.each(backends)('empty paging parameters on %s', (backend) => {
  let t: TestServer;
  let alice: TestUser;
  let chatId: number;
  beforeAll(async () => {
    t = await startServer(backend);
    alice = await registerUser(t);
    const bob = await registerUser(t);
    chatId = (await t.server.core.createGroup(alice.id, { name: 'paging', memberIds: [bob.id] })).id;
    await t.server.core.sendMessage(alice.id, { chatId, text: 'one' });
  });
  afterAll(async () => t?.close());

  const paged = (): string[] => [
    '/api/v1/chat/conversations', // hub
    `/api/v1/chat/conversations/${chatId}/messages`, // hub
    '/api/v1/chats', // rooms
    `/api/chats/${chatId}/messages`, // stomp
  ];

  it('REST: `limit=` and `offset=` are 400 `{"error"}`; a real value and no value still work', async () => {
    for (const path of paged()) {
      for (const query of ['limit=', 'offset=', 'limit=&offset=', 'limit=1&offset=']) {
        const res = await api(t, alice, 'GET', `${path}?${query}`);
        expect(res.status, `${path}?${query}: ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.body).toEqual({ error: expect.stringMatching(/(limit|offset) must be a non-negative integer/) });
      }
      expect((await api(t, alice, 'GET', path)).status, path).toBe(200);
      expect((await api(t, alice, 'GET', `${path}?limit=1&offset=0`)).status, path).toBe(200);
    }
  });

  it('rooms: a chat socket with `?limit=` is refused with 400 before the upgrade', async () => {
    const status = await JsonSocket.open(`${t.wsUrl}/api/v1/group/${chatId}?limit=`, { token: alice.token }).then(
      (s) => {
        s.close();
        return 'open';
      },
      (err: { status?: number }) => err.status,
    );
    expect(status).toBe(400);
  });

  it('socketio: get_chat_messages with an empty limit is refused in the ack', async () => {
    const s = await connect(t, alice.token);
    try {
      const res = await s.call('get_chat_messages', { chatId, limit: '' });
      expect(res).toMatchObject({ success: false, error: 'limit must be a non-negative integer' });
      expect((await s.call('get_chat_messages', { chatId, offset: '' })).success).toBe(false);
      expect((await s.call('get_chat_messages', { chatId })).success).toBe(true);
    } finally {
      s.close();
    }
  });
});
