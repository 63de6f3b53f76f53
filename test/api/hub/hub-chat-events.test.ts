import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';
import { JsonSocket } from '../../support/ws-client.js';

// A 1×1 PNG, for the group picture.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/**
 * Chat and membership changes on the hub socket (additions to the seed, for the web client):
 * `conversation_created`, `conversation_updated`, `conversation_deleted`, `members_added`,
 * `members_removed`, each naming its `actor_id`; removed members are told too.
 */
describe.each(backends)('hub chat change events on %s', (backend) => {
  let t: TestServer;
  const open: JsonSocket[] = [];
  beforeAll(async () => {
    t = await startServer(backend);
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await t.close();
  });

  const connect = async (user: TestUser): Promise<JsonSocket> => {
    const s = await JsonSocket.open(`${t.wsUrl}/api/v1/ws`, { token: user.token });
    open.push(s);
    return s;
  };
  const ofType = (type: string) => (f: any) => f.type === type;

  it('announces a new group, a new picture, added and removed members (to the removed one too), and deletion', async () => {
    const owner = await registerUser(t);
    const bob = await registerUser(t);
    const carol = await registerUser(t);
    const outsider = await registerUser(t);
    const [o1, o2, b1, c1, x1] = await Promise.all([connect(owner), connect(owner), connect(bob), connect(carol), connect(outsider)]);

    const created = await api(t, owner, 'POST', '/api/chats', { type: 'group', name: 'Team', participantIds: [bob.id] });
    const chatId = String(created.body.id);
    for (const s of [o1, o2, b1]) {
      const f = await s.next(ofType('conversation_created'));
      expect(f.data).toMatchObject({ conversation_id: chatId, actor_id: owner.id, type: 'group', name: 'Team', avatar_url: null });
      expect([...f.data.member_ids].sort()).toEqual([owner.id, bob.id].sort());
      expect(typeof f.data.updated_at).toBe('number');
    }

    const form = new FormData();
    form.append('file', new Blob([PNG], { type: 'image/png' }), 'group.png');
    const upload = await fetch(`${t.url}/api/chats/${chatId}/avatar`, { method: 'POST', headers: { authorization: `Bearer ${owner.token}` }, body: form });
    expect(upload.status).toBe(200);
    const { avatarUrl } = (await upload.json()) as { avatarUrl: string };
    const updated = await b1.next(ofType('conversation_updated'));
    expect(updated.data).toMatchObject({ conversation_id: chatId, actor_id: owner.id, name: 'Team', avatar_url: avatarUrl });

    expect((await api(t, owner, 'PUT', `/api/chats/${chatId}/participants`, { action: 'add', userId: carol.id })).status).toBe(200);
    const expectedAdded = { conversation_id: chatId, actor_id: owner.id, user_ids: [carol.id] };
    for (const s of [o1, b1, c1]) {
      const f = await s.next(ofType('members_added'));
      expect(f.data).toMatchObject(expectedAdded);
      expect([...f.data.member_ids].sort()).toEqual([owner.id, bob.id, carol.id].sort());
    }

    expect((await api(t, owner, 'PUT', `/api/chats/${chatId}/participants`, { action: 'remove', userId: bob.id })).status).toBe(200);
    for (const s of [o1, b1, c1]) {
      const f = await s.next(ofType('members_removed'));
      expect(f.data).toMatchObject({ conversation_id: chatId, actor_id: owner.id, user_ids: [bob.id] });
      expect([...f.data.member_ids].sort()).toEqual([owner.id, carol.id].sort());
    }

    // Leaving: the actor is the one removed.
    expect((await api(t, carol, 'PUT', `/api/chats/${chatId}/participants`, { action: 'remove', userId: carol.id })).status).toBe(200);
    expect((await c1.next(ofType('members_removed'))).data).toMatchObject({ actor_id: carol.id, user_ids: [carol.id], member_ids: [owner.id] });

    await t.server.core.deleteGroup(owner.id, Number(chatId));
    expect((await o2.next(ofType('conversation_deleted'))).data).toEqual({ conversation_id: chatId, actor_id: owner.id });

    // Bob and Carol left before: they hear no more about it; the outsider never heard anything.
    await b1.none(ofType('conversation_deleted'), 300);
    await c1.none(ofType('conversation_deleted'), 50);
    await x1.none((f) => /^(conversation|members)_/.test(f.type), 50);
  });

  it('announces a private chat when it is opened, to both people', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const [a1, b1] = await Promise.all([connect(a), connect(b)]);
    const chat = await api(t, a, 'POST', `/api/chats/personal/${b.id}`);
    for (const s of [a1, b1]) {
      expect((await s.next(ofType('conversation_created'))).data).toMatchObject({ conversation_id: String(chat.body.id), actor_id: a.id, type: 'private', name: null });
    }
  });
});
