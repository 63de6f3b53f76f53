import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewMessage, Store } from '../../src/ports/store.js';
import { backends, type Backend } from '../support/backends.js';
import { openTestStore, type OpenedStore } from '../support/test-store.js';

/** The edit/delete guarantees of src/ports/store.ts, on every Store implementation. */
describe.each(backends)('Store edits and deletes on %s', (backend: Backend) => {
  let store: Store;
  let opened: OpenedStore;
  let now = 1_700_000_000_000;
  const tick = (): number => (now += 1000);
  const row = (chatId: number, text: string, senderId = 'a'): NewMessage => ({ chatId, senderId, text, kind: 'TEXT', replyTo: null, clientMsgId: null });
  const group = async () => store.createGroup({ name: 'E', description: null, avatarUrl: null, ownerId: 'a', memberIds: ['b'] }, tick());

  beforeAll(async () => {
    opened = await openTestStore(backend, 'store-edits');
    store = opened.store;
    for (const id of ['a', 'b']) await store.upsertUser(id, { username: `user_${id}` }, tick());
  });
  afterAll(() => opened.close());

  it('edits keep id and seq, set editedAt and take the next change cursor', async () => {
    const g = await group();
    const [m1, m2] = await store.appendMessages([row(g.id, 'one'), row(g.id, 'two')], tick());
    expect(m1!.message.changeSeq).toBe(0);
    const at = tick();
    const edited = await store.editMessage(g.id, m1!.message.id, 'one!', at);
    expect(edited).toMatchObject({ id: m1!.message.id, seq: 1, text: 'one!', editedAt: at, deletedAt: null, changeSeq: 1 });
    expect((await store.editMessage(g.id, m2!.message.id, 'two!', tick()))?.changeSeq).toBe(2);
    expect((await store.editMessage(g.id, m1!.message.id, 'one!!', tick()))?.changeSeq).toBe(3);
    expect(await store.getMessage(m1!.message.id)).toMatchObject({ text: 'one!!', changeSeq: 3 });
    // Each chat counts its own changes.
    const other = await group();
    const [o] = await store.appendMessages([row(other.id, 'x')], tick());
    expect((await store.editMessage(other.id, o!.message.id, 'y', tick()))?.changeSeq).toBe(1);
    // The chat's message seq is untouched by changes.
    expect((await store.getChat(g.id))?.lastSeq).toBe(2);
  });

  it('deletes erase the stored text and leave a tombstone with the same id and seq', async () => {
    const g = await group();
    const [m] = await store.appendMessages([row(g.id, 'secret words')], tick());
    const at = tick();
    const tomb = await store.deleteMessage(g.id, m!.message.id, at);
    expect(tomb).toMatchObject({ id: m!.message.id, seq: 1, text: '', deletedAt: at, changeSeq: 1 });
    expect((await store.listMessages(g.id, { limit: 10, offset: 0 })).map((x) => [x.id, x.text, x.deletedAt])).toEqual([[m!.message.id, '', at]]);
    // Gone for good: neither an edit nor a second delete changes a tombstone.
    expect(await store.editMessage(g.id, m!.message.id, 'back', tick())).toBeUndefined();
    expect(await store.deleteMessage(g.id, m!.message.id, tick())).toBeUndefined();
    expect(await store.getMessage(m!.message.id)).toMatchObject({ text: '', changeSeq: 1 });
    expect((await store.listChangesAfter(g.id, 0, 10)).map((x) => x.changeSeq)).toEqual([1]);
  });

  it('refuses unknown messages and messages of another chat, changing nothing', async () => {
    const g = await group();
    const other = await group();
    const [m] = await store.appendMessages([row(g.id, 'mine')], tick());
    expect(await store.editMessage(other.id, m!.message.id, 'hijack', tick())).toBeUndefined();
    expect(await store.deleteMessage(other.id, m!.message.id, tick())).toBeUndefined();
    expect(await store.editMessage(g.id, 999_999_999, 'nope', tick())).toBeUndefined();
    expect(await store.getMessage(m!.message.id)).toMatchObject({ text: 'mine', changeSeq: 0 });
    expect(await store.listChangesAfter(other.id, 0, 10)).toEqual([]);
  });

  it('lists changes after a cursor in change order, each message once in its latest state', async () => {
    const g = await group();
    const sent = await store.appendMessages([row(g.id, 'a'), row(g.id, 'b'), row(g.id, 'c')], tick());
    const [a, b, c] = sent.map((r) => r.message.id) as [number, number, number];
    await store.editMessage(g.id, b, 'b1', tick()); // 1
    await store.editMessage(g.id, a, 'a1', tick()); // 2
    await store.deleteMessage(g.id, b, tick()); // 3
    await store.editMessage(g.id, c, 'c1', tick()); // 4
    const all = await store.listChangesAfter(g.id, 0, 10);
    expect(all.map((m) => [m.id, m.text, m.changeSeq])).toEqual([
      [a, 'a1', 2],
      [b, '', 3],
      [c, 'c1', 4],
    ]);
    expect((await store.listChangesAfter(g.id, 2, 10)).map((m) => m.id)).toEqual([b, c]);
    expect((await store.listChangesAfter(g.id, 0, 1)).map((m) => m.id)).toEqual([a]);
    expect(await store.listChangesAfter(g.id, 4, 10)).toEqual([]);
  });

  it('hands out distinct, gapless change cursors to concurrent changes of one chat', async () => {
    const g = await group();
    const sent = await store.appendMessages(Array.from({ length: 12 }, (_, i) => row(g.id, `m${i}`)), tick());
    const at = tick();
    const results = await Promise.all(
      sent.map((r, i) => (i % 3 === 0 ? store.deleteMessage(g.id, r.message.id, at) : store.editMessage(g.id, r.message.id, `e${i}`, at))),
    );
    // Concurrent appends to the same chat still get their seqs.
    const [late] = await store.appendMessages([row(g.id, 'late')], tick());
    expect(late!.message.seq).toBe(13);
    expect(results.map((m) => m?.changeSeq).sort((x, y) => x! - y!)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect((await store.listChangesAfter(g.id, 0, 100)).length).toBe(12);
  });
});
