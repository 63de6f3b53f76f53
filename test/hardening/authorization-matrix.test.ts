import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { registerUser, startServer, type TestServer, type TestUser } from '../support/test-server.js';
import { waitFor } from '../support/wait.js';
import { JsonSocket } from '../support/ws-client.js';
import { routesFromOpenApi } from './support/openapi-routes.js';

/**
 * Who may do what, for every REST route (the table is checked against `/openapi.json`: a route
 * without an entry fails) and every realtime action. Callers:
 * - anonymous: no token → 401 (or the dialect's equivalent);
 * - outsider: authenticated, never in the chat → 403 (every dialect's doc says 403 / its
 *   realtime equivalent);
 * - removed: was a member, was removed → the same as an outsider;
 * - member (not owner/admin) on owner/admin-only actions → 403.
 * Each refusal has a positive control (a member, or the owner for management) that succeeds
 * with the same request, so a refusal cannot come from a malformed request. Self-scoped routes
 * (lists, profiles) must not show anything of the chats the caller is not in.
 */

const SECRET = `secret-${process.pid}`;
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201e2213bc10000000049454e44ae426082', 'hex');

interface World {
  t: TestServer;
  owner: TestUser;
  member: TestUser;
  removed: TestUser;
  outsider: TestUser;
  /** Someone who may be added to a group (never in one). */
  spare: TestUser;
}

/** A fresh group: owner, member and a second member, `removed` was in it and was removed; two messages. */
async function freshGroup(w: World): Promise<{ group: number; other: TestUser; priv: number; memberMessage: number }> {
  const core = w.t.server.core;
  const other = await registerUser(w.t);
  const group = (await core.createGroup(w.owner.id, { name: `${SECRET}-group`, description: SECRET, memberIds: [w.member.id, other.id, w.removed.id] })).id;
  await core.sendMessage(w.owner.id, { chatId: group, text: `${SECRET}-1` });
  const memberMessage = (await core.sendMessage(w.member.id, { chatId: group, text: `${SECRET}-2` })).message.id;
  await core.removeMembers(w.owner.id, group, [w.removed.id]);
  const priv = (await core.openPrivateChat(w.owner.id, other.id)).chat.id;
  await core.sendMessage(w.owner.id, { chatId: priv, text: `${SECRET}-private` });
  return { group, other, priv, memberMessage };
}

type Caller = 'anonymous' | 'outsider' | 'removed' | 'member' | 'owner';
interface Req {
  readonly method: string;
  readonly path: string;
  readonly json?: unknown;
  readonly form?: () => FormData;
}
/** `memberMessage`: a message of `member` in `group` (edits and deletes: the author's own). */
type Target = { group: number; priv: number; other: TestUser; memberMessage: number; w: World };

/**
 * - public: anyone, no token needed;
 * - socket: a plain GET of a WebSocket path (426); the realtime matrix covers the upgrade;
 * - self: acts on the caller only: anonymous 401; for others nothing of foreign chats shows;
 * - chat: reads/writes one chat: anonymous 401, outsider/removed 403, a member succeeds;
 * - manage: owner/admin only: anonymous 401, outsider/removed/plain member 403, the owner succeeds.
 */
type Entry =
  | { readonly scope: 'public' }
  | { readonly scope: 'socket' }
  | { readonly scope: 'self'; readonly req: (x: Target) => Req }
  | { readonly scope: 'chat'; readonly req: (x: Target) => Req; readonly kind?: 'private' }
  | { readonly scope: 'manage'; readonly req: (x: Target) => Req };

const form = (json: unknown, photo?: Buffer, photoField = 'photo') => () => {
  const f = new FormData();
  f.set('json', JSON.stringify(json));
  if (photo) f.set(photoField, new Blob([new Uint8Array(photo)], { type: 'image/png' }), 'p.png');
  return f;
};

const REST: Record<string, Entry> = {
  // operations and accounts
  'GET /healthz': { scope: 'public' },
  'GET /readyz': { scope: 'public' },
  'GET /metrics': { scope: 'public' },
  'POST /auth/register': { scope: 'public' },
  'POST /auth/login': { scope: 'public' },
  'GET /uploads/{*}': { scope: 'public' },
  'GET /auth/whoami': { scope: 'self', req: () => ({ method: 'GET', path: '/auth/whoami' }) },
  // hub
  'GET /api/v1/ws': { scope: 'socket' },
  'GET /api/v1/chat/conversations': { scope: 'self', req: () => ({ method: 'GET', path: '/api/v1/chat/conversations' }) },
  'GET /api/v1/chat/conversations/{id}/messages': { scope: 'chat', req: ({ group }) => ({ method: 'GET', path: `/api/v1/chat/conversations/${group}/messages` }) },
  'POST /api/v1/chat/conversations/{id}/read': { scope: 'chat', req: ({ group }) => ({ method: 'POST', path: `/api/v1/chat/conversations/${group}/read` }) },
  'POST /api/v1/chat/direct/{user_id}/send': { scope: 'self', req: ({ w }) => ({ method: 'POST', path: `/api/v1/chat/direct/${w.spare.id}/send`, json: { body: 'hi' } }) },
  'PATCH /api/v1/chat/conversations/{id}/messages/{message_id}': {
    scope: 'chat',
    req: ({ group, memberMessage }) => ({ method: 'PATCH', path: `/api/v1/chat/conversations/${group}/messages/${memberMessage}`, json: { body: 'edited' } }),
  },
  'DELETE /api/v1/chat/conversations/{id}/messages/{message_id}': {
    scope: 'chat',
    req: ({ group, memberMessage }) => ({ method: 'DELETE', path: `/api/v1/chat/conversations/${group}/messages/${memberMessage}` }),
  },
  'GET /api/v1/chat/conversations/{id}/changes': { scope: 'chat', req: ({ group }) => ({ method: 'GET', path: `/api/v1/chat/conversations/${group}/changes?after=0` }) },
  'GET /api/v1/chat/search': { scope: 'self', req: () => ({ method: 'GET', path: `/api/v1/chat/search?q=${SECRET}` }) },
  'GET /api/v1/chat/presence/{user_id}': { scope: 'self', req: ({ w }) => ({ method: 'GET', path: `/api/v1/chat/presence/${w.owner.id}` }) },
  // rooms
  'POST /api/v1/user': { scope: 'self', req: () => ({ method: 'POST', path: '/api/v1/user', form: form({ description: 'me' }) }) },
  'GET /api/v1/user': { scope: 'self', req: () => ({ method: 'GET', path: '/api/v1/user' }) },
  'GET /api/v1/user/{id}': { scope: 'self', req: ({ w }) => ({ method: 'GET', path: `/api/v1/user/${w.owner.id}` }) },
  'POST /api/v1/chat/{id}': { scope: 'self', req: ({ w }) => ({ method: 'POST', path: `/api/v1/chat/${w.spare.id}` }) },
  'GET /api/v1/chat/{id}': { scope: 'socket' },
  'GET /api/v1/chat/{id}/info': { scope: 'chat', kind: 'private', req: ({ priv }) => ({ method: 'GET', path: `/api/v1/chat/${priv}/info` }) },
  'GET /api/v1/chats': { scope: 'self', req: () => ({ method: 'GET', path: '/api/v1/chats' }) },
  'POST /api/v1/group': { scope: 'self', req: () => ({ method: 'POST', path: '/api/v1/group', form: form({ name: 'mine' }) }) },
  'DELETE /api/v1/group/{id}': { scope: 'manage', req: ({ group }) => ({ method: 'DELETE', path: `/api/v1/group/${group}` }) },
  'GET /api/v1/group/{id}': { scope: 'socket' },
  'GET /api/v1/group/{id}/info': { scope: 'chat', req: ({ group }) => ({ method: 'GET', path: `/api/v1/group/${group}/info` }) },
  'GET /api/v1/group/{id}/users': { scope: 'chat', req: ({ group }) => ({ method: 'GET', path: `/api/v1/group/${group}/users` }) },
  'POST /api/v1/group/{id}/add': { scope: 'manage', req: ({ group, w }) => ({ method: 'POST', path: `/api/v1/group/${group}/add`, json: { users: [{ id: Number(w.spare.id), name: 'x' }] } }) },
  'DELETE /api/v1/group/{id}/delete': { scope: 'manage', req: ({ group, other }) => ({ method: 'DELETE', path: `/api/v1/group/${group}/delete`, json: { users: [{ id: Number(other.id), name: 'x' }] } }) },
  'GET /api/v1/main': { scope: 'socket' },
  // stomp
  'GET /api/chats': { scope: 'self', req: () => ({ method: 'GET', path: '/api/chats' }) },
  'POST /api/chats': { scope: 'self', req: ({ w }) => ({ method: 'POST', path: '/api/chats', json: { type: 'group', name: 'mine', participantIds: [w.spare.id] } }) },
  'POST /api/chats/personal/{userId}': { scope: 'self', req: ({ w }) => ({ method: 'POST', path: `/api/chats/personal/${w.spare.id}` }) },
  'GET /api/chats/personal/{userId}/id': { scope: 'self', req: ({ w }) => ({ method: 'GET', path: `/api/chats/personal/${w.owner.id}/id` }) },
  'GET /api/chats/{chatId}': { scope: 'chat', req: ({ group }) => ({ method: 'GET', path: `/api/chats/${group}` }) },
  'GET /api/chats/{chatId}/messages': { scope: 'chat', req: ({ group }) => ({ method: 'GET', path: `/api/chats/${group}/messages` }) },
  'POST /api/chats/{chatId}/messages': { scope: 'chat', req: ({ group }) => ({ method: 'POST', path: `/api/chats/${group}/messages`, json: { content: 'hello' } }) },
  'PUT /api/chats/{chatId}/messages/{messageId}': {
    scope: 'chat',
    req: ({ group, memberMessage }) => ({ method: 'PUT', path: `/api/chats/${group}/messages/${memberMessage}`, json: { content: 'edited' } }),
  },
  'DELETE /api/chats/{chatId}/messages/{messageId}': { scope: 'chat', req: ({ group, memberMessage }) => ({ method: 'DELETE', path: `/api/chats/${group}/messages/${memberMessage}` }) },
  'GET /api/chats/{chatId}/changes': { scope: 'chat', req: ({ group }) => ({ method: 'GET', path: `/api/chats/${group}/changes?after=0` }) },
  'PUT /api/chats/{chatId}/participants': { scope: 'manage', req: ({ group, w }) => ({ method: 'PUT', path: `/api/chats/${group}/participants`, json: { action: 'add', userId: w.spare.id } }) },
  'POST /api/chats/{chatId}/avatar': { scope: 'manage', req: ({ group }) => ({ method: 'POST', path: `/api/chats/${group}/avatar`, form: form({}, PNG, 'file') }) },
  'GET /api/chats/{chatId}/online': { scope: 'chat', req: ({ group }) => ({ method: 'GET', path: `/api/chats/${group}/online` }) },
  'GET /api/chats/{chatId}/missed-messages': { scope: 'chat', req: ({ group }) => ({ method: 'GET', path: `/api/chats/${group}/missed-messages?since=2000-01-01T00:00:00Z` }) },
  'POST /api/chats/{chatId}/messages/read': { scope: 'chat', req: ({ group }) => ({ method: 'POST', path: `/api/chats/${group}/messages/read` }) },
  'GET /api/messages/search': { scope: 'self', req: () => ({ method: 'GET', path: `/api/messages/search?q=${SECRET}` }) },
  // user lookups for the web client (any authenticated user may ask)
  'GET /api/users/by-username/{username}': { scope: 'self', req: ({ w }) => ({ method: 'GET', path: `/api/users/by-username/${w.owner.username}` }) },
  'GET /api/users/{userId}': { scope: 'self', req: ({ w }) => ({ method: 'GET', path: `/api/users/${w.owner.id}` }) },
};

/**
 * Entries for routes that exist on `main` but not yet on this branch (merged in parallel): they
 * may be missing from the OpenAPI document; once present they are checked like any other.
 */
const NOT_YET_MERGED = new Set(['GET /api/users/by-username/{username}', 'GET /api/users/{userId}']);

/** Public pages outside the OpenAPI document (hidden there), listed explicitly. */
const PUBLIC_EXTRA = ['GET /openapi.json', 'GET /docs', 'GET /docs/json', 'GET /'];

/** Management variants besides the table's request: PUT participants remove, and removing another member. */
const MANAGE_EXTRA: Record<string, (x: Target) => Req> = {
  'PUT /api/chats/{chatId}/participants remove': ({ group, other }) => ({ method: 'PUT', path: `/api/chats/${group}/participants`, json: { action: 'remove', userId: other.id } }),
};

async function call(w: World, caller: Caller, req: Req): Promise<{ status: number; text: string }> {
  const user = caller === 'anonymous' ? null : w[caller];
  const headers: Record<string, string> = {};
  if (user) headers['authorization'] = `Bearer ${user.token}`;
  let body: string | FormData | undefined;
  if (req.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(req.json);
  } else if (req.form) body = req.form();
  const res = await fetch(`${w.t.url}${req.path}`, { method: req.method, headers, ...(body !== undefined ? { body } : {}) });
  return { status: res.status, text: await res.text() };
}

describe.each(backends)('authorization matrix on %s', (backend) => {
  const w = {} as World;
  let documented = new Set<string>();
  beforeAll(async () => {
    w.t = await startServer(backend);
    documented = new Set((await routesFromOpenApi(w.t)).map((r) => r.key));
    w.owner = await registerUser(w.t);
    w.member = await registerUser(w.t);
    w.removed = await registerUser(w.t);
    w.outsider = await registerUser(w.t);
    w.spare = await registerUser(w.t);
  });
  afterAll(async () => w.t?.close());

  it('the table names every route of /openapi.json, and nothing else', async () => {
    const documented = (await routesFromOpenApi(w.t)).map((r) => r.key).sort();
    const missing = documented.filter((key) => !(key in REST));
    expect(missing, 'routes without an authorization entry').toEqual([]);
    const stale = Object.keys(REST).filter((key) => !documented.includes(key) && !NOT_YET_MERGED.has(key));
    expect(stale, 'entries for routes that do not exist').toEqual([]);
  });

  it('public routes answer without a token', async () => {
    const upload = await call(w, 'owner', { method: 'POST', path: '/api/v1/user', form: form({}, PNG) });
    expect(upload.status).toBe(200);
    const avatar = (await call(w, 'owner', { method: 'GET', path: '/api/v1/user' })).text;
    const uploadPath = new URL(JSON.parse(avatar).avatar as string, w.t.url).pathname;
    const checks: [string, Req, number[]][] = [
      ['GET /healthz', { method: 'GET', path: '/healthz' }, [200]],
      ['GET /readyz', { method: 'GET', path: '/readyz' }, [200]],
      ['GET /metrics', { method: 'GET', path: '/metrics' }, [200]],
      ['POST /auth/register', { method: 'POST', path: '/auth/register', json: { username: `pub${process.pid}`, password: 'correct horse battery' } }, [201]],
      ['POST /auth/login', { method: 'POST', path: '/auth/login', json: { username: `pub${process.pid}`, password: 'correct horse battery' } }, [200]],
      ['GET /uploads/{*}', { method: 'GET', path: uploadPath }, [200]],
      ['GET /openapi.json', { method: 'GET', path: '/openapi.json' }, [200]],
      ['GET /docs', { method: 'GET', path: '/docs' }, [200, 302]],
      ['GET /docs/json', { method: 'GET', path: '/docs/json' }, [200]],
      // The web client, when one is served; today there is none (404, never a 401).
      ['GET /', { method: 'GET', path: '/' }, [200, 404]],
    ];
    for (const [key, req, ok] of checks) {
      expect(REST[key]?.scope === 'public' || PUBLIC_EXTRA.includes(key), key).toBe(true);
      const res = await fetch(`${w.t.url}${req.path}`, { method: req.method, redirect: 'manual', ...(req.json ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(req.json) } : {}) });
      expect(ok, `${key} -> ${res.status}`).toContain(res.status);
    }
    for (const [key, entry] of Object.entries(REST)) if (entry.scope === 'public') expect(checks.some(([k]) => k === key), `${key} has no public check`).toBe(true);
  });

  it('plain GETs of WebSocket paths reveal nothing: 426 (401 without a token on hub)', async () => {
    const { group } = await freshGroup(w);
    const paths: Record<string, string> = { 'GET /api/v1/ws': '/api/v1/ws', 'GET /api/v1/chat/{id}': `/api/v1/chat/${group}`, 'GET /api/v1/group/{id}': `/api/v1/group/${group}`, 'GET /api/v1/main': '/api/v1/main' };
    for (const [key, entry] of Object.entries(REST)) {
      if (entry.scope !== 'socket') continue;
      expect(paths[key], key).toBeDefined();
      for (const caller of ['anonymous', 'outsider', 'member'] as const) {
        const { status, text } = await call(w, caller, { method: 'GET', path: paths[key]! });
        expect(caller === 'anonymous' ? [401, 426] : [426], `${key} as ${caller}`).toContain(status);
        expect(text).not.toContain(SECRET);
      }
    }
  });

  for (const [key, entry] of Object.entries(REST)) {
    if (entry.scope === 'public' || entry.scope === 'socket') continue;
    it(`${key} (${entry.scope})`, async (ctx) => {
      if (!documented.has(key)) {
        expect(NOT_YET_MERGED.has(key), `${key} is not a route`).toBe(true);
        ctx.skip();
      }
      const { group, priv, other, memberMessage } = await freshGroup(w);
      const x: Target = { group, priv, other, memberMessage, w };
      const req = entry.req(x);
      const anon = await call(w, 'anonymous', req);
      expect(anon.status, `${key} anonymous: ${anon.text}`).toBe(401);
      expect(typeof JSON.parse(anon.text).error).toBe('string');
      if (entry.scope === 'self') {
        for (const caller of ['outsider', 'removed'] as const) {
          const res = await call(w, caller, entry.req(x));
          expect(res.status, `${key} as ${caller}: ${res.text}`).toBeLessThan(500);
          expect(res.text, `${key} as ${caller} shows a foreign chat`).not.toContain(SECRET);
        }
        return;
      }
      const callers: Caller[] = entry.scope === 'manage' ? ['outsider', 'removed', 'member'] : entry.kind === 'private' ? ['outsider', 'removed', 'member'] : ['outsider', 'removed'];
      // For a private chat of owner+other, `member` and `removed` are outsiders too.
      for (const caller of callers) {
        const res = await call(w, caller, entry.req(x));
        expect(res.status, `${key} as ${caller}: ${res.text}`).toBe(403);
        expect(typeof JSON.parse(res.text).error).toBe('string');
        expect(res.text).not.toContain(SECRET);
      }
      const before = await w.t.server.store.listMessagesAfterSeq(group, 0, 1000);
      expect(before).toHaveLength(2); // refusals stored nothing
      // Positive control: the same request works for whoever may do it.
      const allowed: Caller = entry.scope === 'manage' || entry.kind === 'private' ? 'owner' : 'member';
      const ok = await call(w, allowed, entry.req(x));
      expect(ok.status, `${key} as ${allowed}: ${ok.text}`).toBeLessThan(300);
    });
  }

  for (const [name, build] of Object.entries(MANAGE_EXTRA)) {
    it(`${name} (manage)`, async () => {
      const { group, priv, other, memberMessage } = await freshGroup(w);
      const x: Target = { group, priv, other, memberMessage, w };
      expect((await call(w, 'anonymous', build(x))).status).toBe(401);
      for (const caller of ['outsider', 'removed', 'member'] as const) expect((await call(w, caller, build(x))).status, `${name} as ${caller}`).toBe(403);
      expect((await call(w, 'owner', build(x))).status).toBe(200);
    });
  }

  // ---- realtime ---------------------------------------------------------------------------

  /** hub: one frame, then a probe; the errors the frame got. */
  async function hubErrors(user: TestUser, frame: unknown): Promise<string[]> {
    const s = await JsonSocket.open(`${w.t.wsUrl}/api/v1/ws`, { token: user.token });
    s.send(frame);
    s.send({ type: 'probe', data: {} });
    await s.next((f) => f.type === 'error' && f.data?.error === 'Unknown event type: probe');
    s.close();
    return s.frames.filter((f) => f.type === 'error' && f.data?.error !== 'Unknown event type: probe').map((f) => f.data.error as string);
  }

  it('hub: upgrade without a token is 401; message/typing/read by an outsider or a removed member get the error event', async () => {
    const { group } = await freshGroup(w);
    const refused = await JsonSocket.open(`${w.t.wsUrl}/api/v1/ws`).then(
      () => null,
      (err: { status?: number }) => err.status,
    );
    expect(refused).toBe(401);
    const frames = [
      { type: 'message', data: { conversation_id: String(group), body: 'sneak' } },
      { type: 'typing', data: { conversation_id: String(group), is_typing: true } },
      { type: 'read', data: { conversation_id: String(group) } },
    ];
    for (const frame of frames) {
      for (const user of [w.outsider, w.removed]) expect(await hubErrors(user, frame), `${frame.type}`).toEqual(['You are not a member of this chat']);
      expect(await hubErrors(w.member, frame), `${frame.type} as member`).toEqual([]);
    }
    const texts = (await w.t.server.store.listMessagesAfterSeq(group, 0, 100)).map((m) => m.text);
    expect(texts.filter((t) => t === 'sneak')).toHaveLength(1); // the member's only
  });

  async function upgradeStatus(url: string, token?: string): Promise<number | 'open'> {
    try {
      const s = await JsonSocket.open(url, token ? { token } : {});
      s.close();
      return 'open';
    } catch (err) {
      return (err as { status: number }).status;
    }
  }

  it('rooms: chat/group sockets refuse anonymous (401), outsiders and removed members (403); a removal closes an open socket (4403)', async () => {
    const { group, priv, other } = await freshGroup(w);
    for (const path of [`/api/v1/group/${group}`, `/api/v1/chat/${priv}`]) {
      expect(await upgradeStatus(`${w.t.wsUrl}${path}`), path).toBe(401);
      expect(await upgradeStatus(`${w.t.wsUrl}${path}`, w.outsider.token), path).toBe(403);
      expect(await upgradeStatus(`${w.t.wsUrl}${path}`, w.removed.token), path).toBe(403);
    }
    expect(await upgradeStatus(`${w.t.wsUrl}/api/v1/chat/${priv}`, w.member.token)).toBe(403);
    expect(await upgradeStatus(`${w.t.wsUrl}/api/v1/main`)).toBe(401);
    // message and typing need the socket: the member can, and loses it when removed.
    const s = await JsonSocket.open(`${w.t.wsUrl}/api/v1/group/${group}`, { token: other.token });
    await s.next((f) => f.type === 'history');
    s.send({ type: 'message', text: 'before removal' });
    await s.next((f) => f.type === 'message' && f.text === 'before removal');
    await w.t.server.core.removeMembers(w.owner.id, group, [other.id]);
    expect((await s.closed()).code).toBe(4403);
    expect(await upgradeStatus(`${w.t.wsUrl}/api/v1/group/${group}`, other.token)).toBe(403);
  });

  async function channelsOutcome(chatId: number, token?: string): Promise<number | 'connected'> {
    const s = await JsonSocket.open(`${w.t.wsUrl}/ws/chat/${chatId}/${token ? `?token=${token}` : ''}`);
    const first = await Promise.race([s.next(() => true, 5000).catch(() => null), s.closed().then(() => null)]);
    if (first?.type === 'connection_established') {
      s.close();
      return 'connected';
    }
    expect(s.frames).toEqual([]);
    return s.closeCode!;
  }

  it('channels: anonymous 4401, outsider and removed member 4403 (no frame); message/typing/read_messages need the connection; removal closes it (4403)', async () => {
    const { group, other } = await freshGroup(w);
    expect(await channelsOutcome(group)).toBe(4401);
    expect(await channelsOutcome(group, w.outsider.token)).toBe(4403);
    expect(await channelsOutcome(group, w.removed.token)).toBe(4403);
    expect(await channelsOutcome(group, w.member.token)).toBe('connected');
    const s = await JsonSocket.open(`${w.t.wsUrl}/ws/chat/${group}/?token=${other.token}`);
    await s.next((f) => f.type === 'connection_established');
    s.send({ type: 'read_messages' });
    await s.next((f) => f.type === 'messages_read');
    await w.t.server.core.removeMembers(w.owner.id, group, [other.id]);
    expect((await s.closed()).code).toBe(4403);
    expect(await channelsOutcome(group, other.token)).toBe(4403);
  });

  /** STOMP over a raw WebSocket: CONNECT, one frame with a receipt; 'receipt' or the ERROR message. */
  async function stompOutcome(token: string | null, frame: string): Promise<string> {
    const ws = new WebSocket(`${w.t.wsUrl}/ws-chat`, ['v12.stomp']);
    let text = '';
    let closed = false;
    ws.on('message', (d: Buffer) => {
      text += d.toString('utf8');
    });
    ws.on('close', () => {
      closed = true;
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(`CONNECT\naccept-version:1.2\nhost:x\n${token ? `Authorization:Bearer ${token}\n` : ''}\n\u0000`);
    ws.send(`${frame}\u0000`);
    await waitFor(() => closed || text.includes('receipt-id:m1'), 5000, 'stomp outcome');
    ws.terminate();
    const error = /ERROR\n(?:[^\n]*\n)*?message:([^\n]*)/.exec(text);
    return error ? error[1]! : 'receipt';
  }

  it('stomp: SUBSCRIBE /topic/chat/{id} and SEND to every /app destination: Unauthorized without a token, Access denied for outsiders and removed members', async () => {
    const { group, memberMessage } = await freshGroup(w);
    const frames = [
      `SUBSCRIBE\nid:s1\ndestination:/topic/chat/${group}\nreceipt:m1\n\n`,
      `SEND\ndestination:/app/chat/${group}/sendMessage\nreceipt:m1\ncontent-type:application/json\n\n{"content":"sneak"}`,
      `SEND\ndestination:/app/chat/${group}/typing\nreceipt:m1\n\ntrue`,
      `SEND\ndestination:/app/chat/${group}/loadHistory\nreceipt:m1\n\n{"limit":5}`,
      // The member's own message: the member may edit and then delete it.
      `SEND\ndestination:/app/chat/${group}/editMessage\nreceipt:m1\n\n{"messageId":${memberMessage},"content":"edited"}`,
      `SEND\ndestination:/app/chat/${group}/deleteMessage\nreceipt:m1\n\n{"messageId":${memberMessage}}`,
    ];
    for (const frame of frames) {
      const what = frame.split('\n').slice(0, 2).join(' ');
      expect(await stompOutcome(null, frame), what).toBe('Unauthorized');
      expect(await stompOutcome(w.outsider.token, frame), what).toBe('Access denied');
      expect(await stompOutcome(w.removed.token, frame), what).toBe('Access denied');
      expect(await stompOutcome(w.member.token, frame), `${what} as member`).toBe('receipt');
    }
    const texts = (await w.t.server.store.listMessagesAfterSeq(group, 0, 100)).map((m) => m.text);
    expect(texts.filter((t) => t === 'sneak')).toHaveLength(1);
  });

  it('socketio: no token is Unauthorized; send_message/join_chat/get_chat_messages/get_chat_changes/edit_message/delete_message by outsiders and removed members are refused with the seed message', async () => {
    const { group, memberMessage } = await freshGroup(w);
    const refusal = await new Promise<string>((resolve) => {
      const s = io(w.t.url, { transports: ['websocket'], reconnection: false, forceNew: true });
      s.once('connect', () => {
        s.close();
        resolve('connected');
      });
      s.once('connect_error', (err) => {
        s.close();
        resolve(err.message);
      });
    });
    expect(refusal).toBe('Unauthorized');
    const events: [string, unknown][] = [
      ['send_message', { chatId: String(group), text: 'sneak' }],
      ['join_chat', { chatId: String(group) }],
      ['get_chat_messages', { chatId: String(group) }],
      ['get_chat_changes', { chatId: String(group) }],
      // The member's own message: the member may edit and then delete it.
      ['edit_message', { messageId: String(memberMessage), text: 'edited' }],
      ['delete_message', { messageId: String(memberMessage) }],
    ];
    for (const user of [w.outsider, w.removed, w.member]) {
      const s = io(w.t.url, { auth: { token: user.token }, transports: ['websocket'], reconnection: false, forceNew: true });
      await new Promise<void>((r) => s.once('connect', () => r()));
      for (const [event, payload] of events) {
        const ack = await s.timeout(5000).emitWithAck(event, payload);
        if (user === w.member) expect(ack.success, `${event} as member`).toBe(true);
        else expect(ack, event).toEqual({ success: false, error: 'У вас нет доступа к этому чату', code: 'forbidden' });
      }
      s.close();
    }
    const texts = (await w.t.server.store.listMessagesAfterSeq(group, 0, 100)).map((m) => m.text);
    expect(texts.filter((t) => t === 'sneak')).toHaveLength(1);
  });

  it('search (hub, stomp, socketio) shows the member the chat’s messages and outsiders or removed members nothing of it', async () => {
    await freshGroup(w);
    const found = async (user: TestUser): Promise<string> => {
      const hub = await call(w, user === w.member ? 'member' : user === w.removed ? 'removed' : 'outsider', { method: 'GET', path: `/api/v1/chat/search?q=${SECRET}` });
      const stomp = await call(w, user === w.member ? 'member' : user === w.removed ? 'removed' : 'outsider', { method: 'GET', path: `/api/messages/search?q=${SECRET}` });
      const s = io(w.t.url, { auth: { token: user.token }, transports: ['websocket'], reconnection: false, forceNew: true });
      await new Promise<void>((r) => s.once('connect', () => r()));
      const ack = (await s.timeout(5000).emitWithAck('search_messages', { q: SECRET })) as { success: boolean };
      s.close();
      expect([hub.status, stomp.status, ack.success]).toEqual([200, 200, true]);
      return [hub.text, stomp.text, JSON.stringify(ack)].join('\n');
    };
    expect(await found(w.member)).toContain(`${SECRET}-2`);
    for (const user of [w.outsider, w.removed]) expect(await found(user)).not.toContain(SECRET);
  });
});
