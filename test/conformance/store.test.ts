import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/ports/store.js';
import { backends, type Backend } from '../support/backends.js';
import { openTestStore, type OpenedStore } from '../support/test-store.js';

/** One suite, every Store implementation: the guarantees in src/ports/store.ts, checked on real databases. */
describe.each(backends)('Store conformance on %s', (backend: Backend) => {
  let store: Store;
  let opened: OpenedStore;
  let now = 1_700_000_000_000;
  const tick = (): number => (now += 1000);

  beforeAll(async () => {
    opened = await openTestStore(backend, 'store');
    store = opened.store;
    for (const id of ['a', 'b', 'c', 'd']) await store.upsertUser(id, { username: `user_${id}` }, tick());
  });
  afterAll(() => opened.close());

  it('upserts users and applies only the fields present', async () => {
    await store.upsertUser('u1', { username: 'one', email: 'one@example.com' }, tick());
    const updated = await store.upsertUser('u1', { name: 'One' }, tick());
    expect(updated).toMatchObject({ id: 'u1', username: 'one', email: 'one@example.com', name: 'One' });
    const cleared = await store.upsertUser('u1', { email: null }, tick());
    expect(cleared.email).toBeNull();
    expect(await store.getUser('missing')).toBeUndefined();
    expect((await store.getUsers(['u1', 'missing'])).map((u) => u.id)).toEqual(['u1']);
  });

  it('applies token claims only when the claims change', async () => {
    const first = await store.applyClaims('c1', { username: 'claimed', name: 'From IdP' }, 'h1', tick());
    expect(first).toMatchObject({ username: 'claimed', name: 'From IdP' });
    await store.upsertUser('c1', { name: 'Edited by the user' }, tick());
    // The same claims again: the edit stays.
    expect((await store.applyClaims('c1', { username: 'claimed', name: 'From IdP' }, 'h1', tick())).name).toBe('Edited by the user');
    // New claims: applied.
    expect((await store.applyClaims('c1', { username: 'claimed', name: 'Renamed at IdP' }, 'h2', tick())).name).toBe('Renamed at IdP');
  });

  it('creates accounts with numeric ids and refuses duplicate usernames and emails', async () => {
    const first = await store.createAccount({ username: 'Alpha', email: 'alpha@example.com', name: null, passwordHash: 'h' }, tick());
    const second = await store.createAccount({ username: 'beta', email: null, name: 'Beta', passwordHash: 'h' }, tick());
    expect(first.id).toMatch(/^[1-9]\d*$/);
    expect(Number(second.id)).toBe(Number(first.id) + 1);
    await expect(store.createAccount({ username: 'ALPHA', email: null, name: null, passwordHash: 'h' }, tick())).rejects.toMatchObject({ code: 'conflict' });
    await expect(store.createAccount({ username: 'gamma', email: 'Alpha@Example.com', name: null, passwordHash: 'h' }, tick())).rejects.toMatchObject({ code: 'conflict' });
    expect(await store.findAccount({ username: 'alpha' })).toMatchObject({ userId: first.id, passwordHash: 'h' });
    expect(await store.findAccount({ email: 'ALPHA@example.com' })).toMatchObject({ userId: first.id });
    expect((await store.findUserByUsername('alpha'))?.id).toBe(first.id);
  });

  it('skips account ids already taken by a token subject', async () => {
    const next = await store.createAccount({ username: 'probe1', email: null, name: null, passwordHash: 'h' }, tick());
    await store.upsertUser(String(Number(next.id) + 1), {}, tick());
    const after = await store.createAccount({ username: 'probe2', email: null, name: null, passwordHash: 'h' }, tick());
    expect(Number(after.id)).toBe(Number(next.id) + 2);
  });

  it('keeps one private chat per pair, whichever side asks, even when asked concurrently', async () => {
    const results = await Promise.all([
      store.getOrCreatePrivateChat('a', 'b', tick()),
      store.getOrCreatePrivateChat('b', 'a', tick()),
      store.getOrCreatePrivateChat('a', 'b', tick()),
    ]);
    const ids = new Set(results.map((r) => r.chat.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const chat = results[0]!.chat;
    expect(chat.type).toBe('private');
    expect((await store.findPrivateChat('b', 'a'))?.id).toBe(chat.id);
    expect((await store.listMembers(chat.id)).map((m) => m.userId).sort()).toEqual(['a', 'b']);
  });

  it('creates groups with an owner and manages membership', async () => {
    const group = await store.createGroup({ name: 'G', description: 'd', avatarUrl: null, ownerId: 'a', memberIds: ['b'] }, tick());
    expect(group).toMatchObject({ type: 'group', name: 'G', description: 'd', lastSeq: 0 });
    expect(await store.getMember(group.id, 'a')).toMatchObject({ role: 'owner', readSeq: 0, deliveredSeq: 0 });
    expect(await store.addMembers(group.id, ['b', 'c'], 'member', tick())).toEqual(['c']);
    expect(await store.removeMembers(group.id, ['c', 'd'], tick())).toEqual(['c']);
    expect(await store.getMember(group.id, 'c')).toBeUndefined();
    expect(await store.chatIdsOf('c')).not.toContain(group.id);
    // Re-adding a former member restores it.
    expect(await store.addMembers(group.id, ['c'], 'member', tick())).toEqual(['c']);
    expect(await store.getMember(group.id, 'c')).toMatchObject({ role: 'member' });
    expect((await store.contactsOf('c')).sort()).toEqual(['a', 'b']);
    const updated = await store.updateChat(group.id, { name: 'G2', avatarUrl: '/uploads/x.png' }, tick());
    expect(updated).toMatchObject({ name: 'G2', avatarUrl: '/uploads/x.png', description: 'd' });
    await store.deleteChat(group.id);
    expect(await store.getChat(group.id)).toBeUndefined();
    expect(await store.listMembers(group.id)).toEqual([]);
  });

  it('allocates gapless per-chat seqs in input order, one transaction per batch', async () => {
    const g1 = await store.createGroup({ name: 'S1', description: null, avatarUrl: null, ownerId: 'a', memberIds: ['b'] }, tick());
    const g2 = await store.createGroup({ name: 'S2', description: null, avatarUrl: null, ownerId: 'a', memberIds: [] }, tick());
    const row = (chatId: number, text: string) => ({ chatId, senderId: 'a', text, kind: 'TEXT', replyTo: null, clientMsgId: null });
    const results = await store.appendMessages([row(g1.id, 'x1'), row(g2.id, 'y1'), row(g1.id, 'x2'), row(g1.id, 'x3')], tick());
    expect(results.map((r) => [r.message.chatId, r.message.seq, r.message.text])).toEqual([
      [g1.id, 1, 'x1'],
      [g2.id, 1, 'y1'],
      [g1.id, 2, 'x2'],
      [g1.id, 3, 'x3'],
    ]);
    expect((await store.getChat(g1.id))?.lastSeq).toBe(3);
    const more = await store.appendMessages([row(g1.id, 'x4')], tick());
    expect(more[0]!.message.seq).toBe(4);
    // A batch naming an unknown chat fails whole: nothing of it is stored.
    await expect(store.appendMessages([row(g1.id, 'lost'), row(999_999, 'nope')], tick())).rejects.toBeTruthy();
    expect((await store.getChat(g1.id))?.lastSeq).toBe(4);
    expect((await store.listMessages(g1.id, { limit: 10, offset: 0 })).map((m) => m.text)).toEqual(['x1', 'x2', 'x3', 'x4']);
  });

  it('stores text exactly as sent, with reply_to and kind', async () => {
    const g = await store.createGroup({ name: 'T', description: null, avatarUrl: null, ownerId: 'a', memberIds: [] }, tick());
    const text = '  spaced\n«юникод» 😀  ';
    const [first] = await store.appendMessages([{ chatId: g.id, senderId: 'a', text, kind: 'TEXT', replyTo: null, clientMsgId: null }], tick());
    const [reply] = await store.appendMessages([{ chatId: g.id, senderId: 'a', text: 're', kind: 'REPLY', replyTo: first!.message.id, clientMsgId: null }], tick());
    const stored = await store.getMessage(reply!.message.id);
    expect(stored).toMatchObject({ text: 're', kind: 'REPLY', replyTo: first!.message.id, editedAt: null, deletedAt: null });
    expect((await store.getMessage(first!.message.id))?.text).toBe(text);
  });

  it('returns the stored message for a retried client id instead of a duplicate', async () => {
    const g = await store.createGroup({ name: 'I', description: null, avatarUrl: null, ownerId: 'a', memberIds: ['b'] }, tick());
    const send = (senderId: string, id: string | null) => ({ chatId: g.id, senderId, text: 'once', kind: 'TEXT', replyTo: null, clientMsgId: id });
    const [a, b] = await store.appendMessages([send('a', 'k1'), send('a', 'k1')], tick());
    expect(a!.created).toBe(true);
    expect(b).toEqual({ message: a!.message, created: false });
    const [again] = await store.appendMessages([send('a', 'k1')], tick());
    expect(again).toEqual({ message: a!.message, created: false });
    // The same client id from another sender is another message.
    const [other] = await store.appendMessages([send('b', 'k1')], tick());
    expect(other!.created).toBe(true);
    expect((await store.getChat(g.id))?.lastSeq).toBe(2);
  });

  it('pages history back from the newest, oldest first, with beforeId and catch-up queries', async () => {
    const g = await store.createGroup({ name: 'P', description: null, avatarUrl: null, ownerId: 'a', memberIds: [] }, tick());
    const ids: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const [r] = await store.appendMessages([{ chatId: g.id, senderId: 'a', text: `m${i}`, kind: 'TEXT', replyTo: null, clientMsgId: null }], tick());
      ids.push(r!.message.id);
    }
    const texts = (ms: { text: string }[]) => ms.map((m) => m.text);
    expect(texts(await store.listMessages(g.id, { limit: 2, offset: 0 }))).toEqual(['m4', 'm5']);
    expect(texts(await store.listMessages(g.id, { limit: 2, offset: 2 }))).toEqual(['m2', 'm3']);
    expect(texts(await store.listMessages(g.id, { limit: 10, offset: 4 }))).toEqual(['m1']);
    expect(texts(await store.listMessages(g.id, { limit: 2, offset: 0, beforeId: ids[3] }))).toEqual(['m2', 'm3']);
    expect(texts(await store.listMessagesAfterSeq(g.id, 3, 10))).toEqual(['m4', 'm5']);
    const third = await store.getMessage(ids[2]!);
    expect(texts(await store.listMessagesSince(g.id, third!.createdAt, 10))).toEqual(['m4', 'm5']);
  });

  it('lists a user’s chats by activity with last message and unread counts', async () => {
    await store.upsertUser('l1', {}, tick());
    await store.upsertUser('l2', {}, tick());
    const older = await store.createGroup({ name: 'older', description: null, avatarUrl: null, ownerId: 'l1', memberIds: ['l2'] }, tick());
    const newer = await store.createGroup({ name: 'newer', description: null, avatarUrl: null, ownerId: 'l1', memberIds: ['l2'] }, tick());
    const empty = await store.createGroup({ name: 'empty', description: null, avatarUrl: null, ownerId: 'l1', memberIds: [] }, tick());
    const msg = (chatId: number, senderId: string, text: string) => ({ chatId, senderId, text, kind: 'TEXT', replyTo: null, clientMsgId: null });
    await store.appendMessages([msg(newer.id, 'l2', 'n1')], tick());
    await store.appendMessages([msg(older.id, 'l2', 'o1'), msg(older.id, 'l2', 'o2'), msg(older.id, 'l1', 'mine')], tick());
    const list = await store.listChatSummaries('l1', { limit: null, offset: 0 });
    expect(list.map((s) => s.chat.name)).toEqual(['older', 'newer', 'empty']);
    expect(list.map((s) => s.lastMessage?.text ?? null)).toEqual(['mine', 'n1', null]);
    expect(list.map((s) => s.unreadCount)).toEqual([2, 1, 0]);
    expect(list[0]!.member.role).toBe('owner');
    expect((await store.listChatSummaries('l1', { limit: 1, offset: 1 })).map((s) => s.chat.name)).toEqual(['newer']);
    expect((await store.listChatSummaries('l1', { limit: null, offset: 2 })).map((s) => s.chat.name)).toEqual(['empty']);
    expect((await store.listChatSummaries('l1', { limit: 5, offset: 0 }, { chatId: empty.id })).map((s) => s.chat.name)).toEqual(['empty']);
    expect(await store.listChatSummaries('nobody', { limit: null, offset: 0 })).toEqual([]);

    expect(await store.advanceRead({ chatId: older.id, userId: 'l1', seq: 3 })).toMatchObject({ previous: 0, seq: 3 });
    const after = await store.listChatSummaries('l1', { limit: null, offset: 0 });
    expect(after.find((s) => s.chat.id === older.id)?.unreadCount).toBe(0);
    expect(after.find((s) => s.chat.id === older.id)?.member).toMatchObject({ readSeq: 3, deliveredSeq: 3 });
  });

  it('moves receipt cursors forward only and reports only real moves', async () => {
    const g = await store.createGroup({ name: 'R', description: null, avatarUrl: null, ownerId: 'a', memberIds: ['b'] }, tick());
    const moved = await store.advanceDelivered([
      { chatId: g.id, userId: 'b', seq: 5 },
      { chatId: g.id, userId: 'c', seq: 5 },
    ]);
    expect(moved).toEqual([{ chatId: g.id, userId: 'b', seq: 5, previous: 0 }]);
    expect(await store.advanceDelivered([{ chatId: g.id, userId: 'b', seq: 3 }])).toEqual([]);
    expect(await store.advanceRead({ chatId: g.id, userId: 'b', seq: 2 })).toMatchObject({ previous: 0 });
    expect(await store.advanceRead({ chatId: g.id, userId: 'b', seq: 1 })).toBeUndefined();
    expect(await store.getMember(g.id, 'b')).toMatchObject({ deliveredSeq: 5, readSeq: 2 });
  });

  it('keeps settings first-writer-wins', async () => {
    expect(await store.getOrSetSetting('k', 'first')).toBe('first');
    expect(await store.getOrSetSetting('k', 'second')).toBe('first');
  });
});
