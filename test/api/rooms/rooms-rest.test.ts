import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, tokenFor, type TestServer, type TestUser } from '../../support/test-server.js';
import { sleep } from '../../support/wait.js';
import { externalUser, makePng, PNG, sendForm } from './rooms-helpers.js';

const MAX_UPLOAD = 4096;

describe.each(backends)('rooms REST on %s', (backend) => {
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;

  beforeAll(async () => {
    t = await startServer(backend, { env: { MAX_UPLOAD_BYTES: String(MAX_UPLOAD) } });
    [alice, bob, carol, dave] = [await registerUser(t), await registerUser(t), await registerUser(t), await registerUser(t)];
  });
  afterAll(async () => t.close());

  const idOf = (u: TestUser): number => Number(u.id);

  describe('users', () => {
    it('creates a profile from the multipart form, with a photo the returned URL serves', async () => {
      const me = await externalUser();
      const created = await sendForm(t, me, '/api/v1/user', { json: { username: 'zoe', name: 'Zoe Z', description: 'hello' }, photo: PNG });
      expect(created).toEqual({ status: 200, body: { status: 'ok' } });

      const mine = await api(t, me, 'GET', '/api/v1/user');
      expect(mine.status).toBe(200);
      expect(mine.body).toMatchObject({ id: Number(me.id), name: 'Zoe Z', username: 'zoe', description: 'hello' });
      expect(mine.body.avatar).toMatch(/^\/uploads\/users\/.+\.png$/);
      const image = await fetch(`${t.url}${mine.body.avatar}`);
      expect(image.status).toBe(200);
      expect(image.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await image.arrayBuffer())).toEqual(PNG);

      const seen = await api(t, alice, 'GET', `/api/v1/user/${me.id}`);
      expect(seen).toMatchObject({ status: 200, body: { id: Number(me.id), name: 'Zoe Z', username: 'zoe', description: 'hello', avatar: mine.body.avatar } });
    });

    it('updates a profile without a photo and keeps the old photo', async () => {
      const me = await externalUser();
      await sendForm(t, me, '/api/v1/user', { json: { name: 'First' }, photo: makePng(3, 2) });
      const before = await api(t, me, 'GET', '/api/v1/user');
      expect((await sendForm(t, me, '/api/v1/user', { json: { name: 'Second', description: 'd2' } })).status).toBe(200);
      const after = await api(t, me, 'GET', '/api/v1/user');
      expect(after.body).toMatchObject({ name: 'Second', description: 'd2', avatar: before.body.avatar });
    });

    it('renders a built-in account with a numeric id and an external one with its string id', async () => {
      const me = await api(t, alice, 'GET', '/api/v1/user');
      expect(me.body).toEqual({ id: idOf(alice), name: alice.username, username: alice.username, description: '', avatar: null });
      const ext = { id: 'ext-rooms-1', token: await tokenFor('ext-rooms-1', { preferred_username: 'extie' }), username: 'extie' };
      expect((await api(t, ext, 'GET', '/api/v1/user')).body).toMatchObject({ id: 'ext-rooms-1', username: 'extie', name: 'extie' });
      expect((await api(t, alice, 'GET', '/api/v1/user/ext-rooms-1')).body).toMatchObject({ id: 'ext-rooms-1' });
    });

    it('refuses bad forms with 400, oversized photos with 413 and non-images with 415, changing nothing', async () => {
      const me = await externalUser();
      await sendForm(t, me, '/api/v1/user', { json: { name: 'Stable' } });
      const cases: [Parameters<typeof sendForm>[3], number][] = [
        [{}, 400],
        [{ rawJson: 'not json' }, 400],
        [{ rawJson: '[1,2]' }, 400],
        [{ rawJson: '"text"' }, 400],
        [{ json: { name: 42 } }, 400],
        [{ json: { description: ['x'] } }, 400],
        [{ json: { name: 'x'.repeat(201) } }, 400],
        [{ json: { name: 'Big' }, photo: Buffer.concat([PNG, randomBytes(MAX_UPLOAD * 2)]) }, 413],
        [{ json: { name: 'Text' }, photo: Buffer.from('just some text, not an image'), photoType: 'image/png' }, 415],
      ];
      for (const [part, status] of cases) {
        const res = await sendForm(t, me, '/api/v1/user', part);
        expect({ part: Object.keys(part), status: res.status }).toEqual({ part: Object.keys(part), status });
        expect(res.body).toEqual({ error: expect.any(String) });
      }
      // A JSON body instead of a form.
      const json = await api(t, me, 'POST', '/api/v1/user', { name: 'Json' });
      expect(json.status).toBe(400);
      expect((await api(t, me, 'GET', '/api/v1/user')).body).toMatchObject({ name: 'Stable', avatar: null });
    });

    it('answers malformed multipart bodies with 400 and too many parts with 413', async () => {
      const me = await externalUser();
      const post = async (body: string | FormData, contentType?: string) => {
        const res = await fetch(`${t.url}/api/v1/user`, { method: 'POST', headers: { authorization: `Bearer ${me.token}`, ...(contentType ? { 'content-type': contentType } : {}) }, body });
        return { status: res.status, body: await res.json() };
      };
      expect(await post('xx', 'multipart/form-data')).toEqual({ status: 400, body: { error: expect.any(String) } });
      const cut = '--abc\r\nContent-Disposition: form-data; name="photo"; filename="a.png"\r\n\r\nxxxx';
      expect(await post(cut, 'multipart/form-data; boundary=abc')).toEqual({ status: 400, body: { error: expect.any(String) } });
      const many = new FormData();
      many.append('json', '{}');
      for (let i = 0; i < 6; i++) many.append('other', new Blob([new Uint8Array([1])]), 'f');
      expect(await post(many)).toEqual({ status: 413, body: { error: expect.any(String) } });
      const huge = new FormData();
      huge.append('json', JSON.stringify({ description: 'x'.repeat(300 * 1024) }));
      expect(await post(huge)).toEqual({ status: 400, body: { error: expect.any(String) } });
      expect((await api(t, me, 'GET', '/api/v1/user')).body).toMatchObject({ description: '' });
    });

    it('accepts the json field sent as a JSON-typed part', async () => {
      const me = await externalUser();
      const form = new FormData();
      form.append('json', new Blob([JSON.stringify({ name: 'Typed' })], { type: 'application/json' }));
      const res = await fetch(`${t.url}/api/v1/user`, { method: 'POST', headers: { authorization: `Bearer ${me.token}` }, body: form });
      expect(res.status).toBe(200);
      expect((await api(t, me, 'GET', '/api/v1/user')).body.name).toBe('Typed');
    });

    it('answers 400 for malformed user ids, 404 for unknown ones and 401 without a token', async () => {
      for (const bad of ['0', '-1', '01', '1.5', '%20']) expect({ bad, status: (await api(t, alice, 'GET', `/api/v1/user/${bad}`)).status }).toEqual({ bad, status: 400 });
      expect((await api(t, alice, 'GET', '/api/v1/user/999999')).status).toBe(404);
      expect((await api(t, alice, 'GET', '/api/v1/user/nobody-here')).status).toBe(404);
      expect((await api(t, null, 'GET', '/api/v1/user')).status).toBe(401);
      expect((await api(t, null, 'GET', `/api/v1/user/${alice.id}`)).status).toBe(401);
      expect((await sendForm(t, null, '/api/v1/user', { json: { name: 'x' } })).status).toBe(401);
    });
  });

  describe('private chats', () => {
    it('get-or-creates the private chat by USER id and shows it', async () => {
      const first = await api(t, alice, 'POST', `/api/v1/chat/${bob.id}`);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ status: 'ok', chat: { id: expect.any(Number) } });
      const again = await api(t, bob, 'POST', `/api/v1/chat/${alice.id}`);
      expect(again.body.chat.id).toBe(first.body.chat.id);

      const info = await api(t, alice, 'GET', `/api/v1/chat/${first.body.chat.id}/info`);
      expect(info.status).toBe(200);
      expect(info.body).toMatchObject({ id: first.body.chat.id, name: bob.username, type: 'private', last_message: null });
      expect(info.body.users).toEqual(expect.arrayContaining([{ id: idOf(alice), name: alice.username }, { id: idOf(bob), name: bob.username }]));

      await t.server.core.sendMessage(bob.id, { chatId: first.body.chat.id, text: 'hi alice' });
      const withMessage = await api(t, alice, 'GET', `/api/v1/chat/${first.body.chat.id}/info`);
      expect(withMessage.body.last_message).toMatchObject({ chat_id: first.body.chat.id, type: 'message', text: 'hi alice', author: { id: idOf(bob), name: bob.username } });
    });

    it('refuses a chat with yourself (400), unknown users (404), bad ids (400) and no token (401)', async () => {
      expect((await api(t, alice, 'POST', `/api/v1/chat/${alice.id}`)).status).toBe(400);
      expect((await api(t, alice, 'POST', '/api/v1/chat/987654')).status).toBe(404);
      expect((await api(t, alice, 'POST', '/api/v1/chat/-3')).status).toBe(400);
      expect((await api(t, null, 'POST', `/api/v1/chat/${bob.id}`)).status).toBe(401);
    });

    it('answers info for bad ids (400), unknown chats (404), groups (404) and non-members (403)', async () => {
      const chat = (await api(t, alice, 'POST', `/api/v1/chat/${bob.id}`)).body.chat.id;
      const group = (await sendForm(t, alice, '/api/v1/group', { json: { name: 'g-info', users: [] } })).body.group.id;
      expect((await api(t, alice, 'GET', '/api/v1/chat/abc/info')).status).toBe(400);
      expect((await api(t, alice, 'GET', '/api/v1/chat/0/info')).status).toBe(400);
      expect((await api(t, alice, 'GET', '/api/v1/chat/99999/info')).status).toBe(404);
      expect((await api(t, alice, 'GET', `/api/v1/chat/${group}/info`)).status).toBe(404);
      const res = await api(t, carol, 'GET', `/api/v1/chat/${chat}/info`);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: expect.any(String) });
    });
  });

  describe('groups', () => {
    it('creates a group with members and a photo, and shows its info and users', async () => {
      const created = await sendForm(t, alice, '/api/v1/group', {
        json: { name: 'Team', description: 'our team', users: [{ id: idOf(bob), name: 'ignored' }, { id: idOf(carol), name: 'x' }] },
        photo: PNG,
      });
      expect(created.status).toBe(200);
      expect(created.body).toEqual({ status: 'ok', group: { id: expect.any(Number), name: 'Team' } });
      const id = created.body.group.id;

      const info = await api(t, bob, 'GET', `/api/v1/group/${id}/info`);
      expect(info.status).toBe(200);
      expect(info.body).toMatchObject({ id, name: 'Team', description: 'our team' });
      expect(info.body.avatar).toMatch(/^\/uploads\/groups\/.+\.png$/);
      expect((await fetch(`${t.url}${info.body.avatar}`)).headers.get('content-type')).toBe('image/png');

      const users = await api(t, carol, 'GET', `/api/v1/group/${id}/users`);
      expect(users.status).toBe(200);
      expect(users.body.users).toHaveLength(3);
      expect(users.body.users).toEqual(
        expect.arrayContaining([
          { id: idOf(alice), name: alice.username, role: 'owner' },
          { id: idOf(bob), name: bob.username, role: 'member' },
          { id: idOf(carol), name: carol.username, role: 'member' },
        ]),
      );
    });

    it('accepts string ids in users and a group with no users', async () => {
      const solo = await sendForm(t, alice, '/api/v1/group', { json: { name: 'Solo' } });
      expect(solo.status).toBe(200);
      expect((await api(t, alice, 'GET', `/api/v1/group/${solo.body.group.id}/users`)).body.users).toEqual([{ id: idOf(alice), name: alice.username, role: 'owner' }]);
      const strings = await sendForm(t, alice, '/api/v1/group', { json: { name: 'Strings', users: [{ id: bob.id }] } });
      expect((await api(t, bob, 'GET', `/api/v1/group/${strings.body.group.id}/info`)).status).toBe(200);
    });

    it('refuses bad group forms', async () => {
      const cases: [Parameters<typeof sendForm>[3], number][] = [
        [{}, 400],
        [{ rawJson: '{oops' }, 400],
        [{ json: { description: 'no name' } }, 400],
        [{ json: { name: '   ' } }, 400],
        [{ json: { name: 'g', users: 'bob' } }, 400],
        [{ json: { name: 'g', users: [{ name: 'no id' }] } }, 400],
        [{ json: { name: 'g', users: [{ id: 0 }] } }, 400],
        [{ json: { name: 'g', users: [{ id: 1.5 }] } }, 400],
        [{ json: { name: 'g', users: [{ id: 424242 }] } }, 404],
        [{ json: { name: 'g' }, photo: Buffer.concat([PNG, randomBytes(MAX_UPLOAD * 2)]) }, 413],
        [{ json: { name: 'g' }, photo: Buffer.from('GIF87 is not quite a gif') }, 415],
      ];
      const before = (await api(t, alice, 'GET', '/api/v1/chats')).body.rooms.length;
      for (const [part, status] of cases) {
        const res = await sendForm(t, alice, '/api/v1/group', part);
        expect({ part: JSON.stringify(part.json ?? part.rawJson ?? null), status: res.status }).toEqual({ part: JSON.stringify(part.json ?? part.rawJson ?? null), status });
        expect(res.body).toEqual({ error: expect.any(String) });
      }
      expect((await api(t, alice, 'GET', '/api/v1/chats')).body.rooms.length).toBe(before);
      expect((await sendForm(t, null, '/api/v1/group', { json: { name: 'g' } })).status).toBe(401);
    });

    it('adds and removes members (owner), with 409 and no change when already in / not in', async () => {
      const id = (await sendForm(t, alice, '/api/v1/group', { json: { name: 'Managed', users: [{ id: idOf(bob) }] } })).body.group.id;
      const members = async (): Promise<number[]> =>
        ((await api(t, alice, 'GET', `/api/v1/group/${id}/users`)).body.users as { id: number }[]).map((u) => u.id).sort((a, b) => a - b);

      expect(await api(t, alice, 'POST', `/api/v1/group/${id}/add`, { users: [{ id: idOf(carol), name: 'c' }] })).toMatchObject({ status: 200, body: { status: 'ok' } });
      expect(await members()).toEqual([idOf(alice), idOf(bob), idOf(carol)].sort((a, b) => a - b));

      const dup = await api(t, alice, 'POST', `/api/v1/group/${id}/add`, { users: [{ id: idOf(dave) }, { id: idOf(bob) }] });
      expect(dup.status).toBe(409);
      expect(dup.body).toEqual({ error: expect.any(String) });
      expect(await members()).not.toContain(idOf(dave));

      expect((await api(t, alice, 'DELETE', `/api/v1/group/${id}/delete`, { users: [{ id: idOf(carol) }] })).status).toBe(200);
      expect(await members()).toEqual([idOf(alice), idOf(bob)].sort((a, b) => a - b));
      const notIn = await api(t, alice, 'DELETE', `/api/v1/group/${id}/delete`, { users: [{ id: idOf(bob) }, { id: idOf(dave) }] });
      expect(notIn.status).toBe(409);
      expect(await members()).toContain(idOf(bob));
      // A removed member can no longer read the group.
      expect((await api(t, carol, 'GET', `/api/v1/group/${id}/info`)).status).toBe(403);
    });

    it('keeps management to the owner: members get 403; anyone may leave', async () => {
      const id = (await sendForm(t, alice, '/api/v1/group', { json: { name: 'Owned', users: [{ id: idOf(bob) }, { id: idOf(carol) }] } })).body.group.id;
      expect((await api(t, bob, 'POST', `/api/v1/group/${id}/add`, { users: [{ id: idOf(dave) }] })).status).toBe(403);
      expect((await api(t, bob, 'DELETE', `/api/v1/group/${id}/delete`, { users: [{ id: idOf(carol) }] })).status).toBe(403);
      expect((await api(t, bob, 'DELETE', `/api/v1/group/${id}`)).status).toBe(403);
      expect((await api(t, dave, 'DELETE', `/api/v1/group/${id}`)).status).toBe(403);
      expect((await api(t, alice, 'DELETE', `/api/v1/group/${id}/delete`, { users: [{ id: idOf(alice) }] })).status).toBe(403);
      expect((await api(t, alice, 'GET', `/api/v1/group/${id}/users`)).body.users).toHaveLength(3);

      expect((await api(t, carol, 'DELETE', `/api/v1/group/${id}/delete`, { users: [{ id: idOf(carol) }] })).status).toBe(200);
      expect((await api(t, alice, 'GET', `/api/v1/group/${id}/users`)).body.users).toHaveLength(2);
    });

    it('deletes a group (owner only), after which it is gone', async () => {
      const id = (await sendForm(t, alice, '/api/v1/group', { json: { name: 'Doomed', users: [{ id: idOf(bob) }] } })).body.group.id;
      expect(await api(t, alice, 'DELETE', `/api/v1/group/${id}`)).toMatchObject({ status: 200, body: { status: 'ok' } });
      expect((await api(t, alice, 'GET', `/api/v1/group/${id}/info`)).status).toBe(404);
      expect((await api(t, bob, 'GET', `/api/v1/group/${id}/users`)).status).toBe(404);
      expect((await api(t, alice, 'DELETE', `/api/v1/group/${id}`)).status).toBe(404);
    });

    it('answers bad ids with 400, unknown groups and private chats with 404, non-members with 403', async () => {
      const chat = (await api(t, alice, 'POST', `/api/v1/chat/${bob.id}`)).body.chat.id;
      const group = (await sendForm(t, alice, '/api/v1/group', { json: { name: 'Closed' } })).body.group.id;
      const routes: [string, string, unknown?][] = [
        ['DELETE', ''],
        ['GET', '/info'],
        ['GET', '/users'],
        ['POST', '/add', { users: [{ id: idOf(dave) }] }],
        ['DELETE', '/delete', { users: [{ id: idOf(alice) }] }],
      ];
      for (const [method, suffix, body] of routes) {
        const at = async (who: TestUser | null, id: string | number) => (await api(t, who, method, `/api/v1/group/${id}${suffix}`, body)).status;
        expect({ route: `${method} ${suffix}`, bad: await at(alice, 'x1'), zero: await at(alice, 0), unknown: await at(alice, 99999), private: await at(alice, chat), stranger: await at(carol, group), anon: await at(null, group) }).toEqual({
          route: `${method} ${suffix}`,
          bad: 400,
          zero: 400,
          unknown: 404,
          private: 404,
          stranger: 403,
          anon: 401,
        });
      }
    });

    it('refuses bad add/delete bodies with 400', async () => {
      const id = (await sendForm(t, alice, '/api/v1/group', { json: { name: 'Bodies', users: [{ id: idOf(bob) }] } })).body.group.id;
      for (const method of ['POST', 'DELETE']) {
        const path = `/api/v1/group/${id}/${method === 'POST' ? 'add' : 'delete'}`;
        for (const body of [undefined, '{bad', [], {}, { users: 'x' }, { users: [] }, { users: [{ name: 'no id' }] }, { users: [{ id: -2 }] }, { users: [5] }]) {
          const res = await api(t, alice, method, path, body);
          expect({ method, body: JSON.stringify(body), status: res.status }).toEqual({ method, body: JSON.stringify(body), status: 400 });
          expect(res.body).toEqual({ error: expect.any(String) });
        }
        expect((await api(t, alice, method, path, { users: [{ id: 777777 }] })).status).toBe(method === 'POST' ? 404 : 409);
      }
    });
  });

  describe('chat list', () => {
    it('lists rooms newest first with last_message, names private chats after the other user, and pages', async () => {
      const me = await externalUser(7000);
      await sendForm(t, me, '/api/v1/user', { json: { name: 'Lister' } });
      expect(await api(t, me, 'GET', '/api/v1/chats')).toMatchObject({ status: 200, body: { rooms: [] } });

      const priv = (await api(t, me, 'POST', `/api/v1/chat/${bob.id}`)).body.chat.id;
      const group = (await sendForm(t, me, '/api/v1/group', { json: { name: 'Listed', users: [{ id: idOf(bob) }] } })).body.group.id;
      await sleep(5); // activity is ordered by millisecond: keep the message after the group's creation
      const sent = await t.server.core.sendMessage(bob.id, { chatId: priv, text: 'newest' });

      const all = await api(t, me, 'GET', '/api/v1/chats');
      expect(all.status).toBe(200);
      expect(all.body.rooms).toEqual([
        {
          id: priv,
          name: bob.username,
          type: 'private',
          last_message: { id: sent.message.id, chat_id: priv, type: 'message', text: 'newest', author: { id: idOf(bob), name: bob.username }, time: new Date(sent.message.createdAt).toISOString() },
        },
        { id: group, name: 'Listed', type: 'group', last_message: null },
      ]);
      // Bob sees the private chat named after "me".
      const bobs = (await api(t, bob, 'GET', '/api/v1/chats')).body.rooms as { id: number; name: string }[];
      expect(bobs.find((r) => r.id === priv)?.name).toBe('Lister');

      expect((await api(t, me, 'GET', '/api/v1/chats?limit=1')).body.rooms.map((r: { id: number }) => r.id)).toEqual([priv]);
      expect((await api(t, me, 'GET', '/api/v1/chats?limit=1&offset=1')).body.rooms.map((r: { id: number }) => r.id)).toEqual([group]);
      expect((await api(t, me, 'GET', '/api/v1/chats?offset=1')).body.rooms.map((r: { id: number }) => r.id)).toEqual([group]);
      expect((await api(t, me, 'GET', '/api/v1/chats?offset=5')).body).toEqual({ rooms: [] });
      expect((await api(t, me, 'GET', '/api/v1/chats?limit=0')).body).toEqual({ rooms: [] });
    });

    it('refuses bad paging with 400 and no token with 401', async () => {
      for (const q of ['limit=-1', 'limit=abc', 'offset=-5', 'offset=1.5', 'limit=1e3']) {
        const res = await api(t, alice, 'GET', `/api/v1/chats?${q}`);
        expect({ q, status: res.status }).toEqual({ q, status: 400 });
        expect(res.body).toEqual({ error: expect.any(String) });
      }
      expect((await api(t, null, 'GET', '/api/v1/chats')).status).toBe(401);
    });
  });

  it('answers a plain GET on a socket path with 426', async () => {
    for (const path of ['/api/v1/chat/1', '/api/v1/group/1', '/api/v1/main']) {
      const res = await api(t, alice, 'GET', path);
      expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 426, body: { error: expect.any(String) } });
    }
  });

  it('documents every rooms route in the OpenAPI document', async () => {
    const doc = (await api(t, null, 'GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const expected: [string, string][] = [
      ['/api/v1/user', 'post'],
      ['/api/v1/user', 'get'],
      ['/api/v1/user/{id}', 'get'],
      ['/api/v1/chat/{id}', 'post'],
      ['/api/v1/chat/{id}/info', 'get'],
      ['/api/v1/group', 'post'],
      ['/api/v1/group/{id}', 'delete'],
      ['/api/v1/group/{id}/info', 'get'],
      ['/api/v1/group/{id}/users', 'get'],
      ['/api/v1/group/{id}/add', 'post'],
      ['/api/v1/group/{id}/delete', 'delete'],
      ['/api/v1/chats', 'get'],
      ['/api/v1/chat/{id}', 'get'],
      ['/api/v1/group/{id}', 'get'],
      ['/api/v1/main', 'get'],
    ];
    for (const [path, method] of expected) expect(doc.paths[path]?.[method], `${method} ${path}`).toMatchObject({ tags: ['rooms'] });
  });
});
