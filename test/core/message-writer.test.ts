import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageWriter } from '../../src/core/message-writer.js';
import type { AppendResult, NewMessage, Store } from '../../src/ports/store.js';
import { backends, type Backend } from '../support/backends.js';
import { openTestStore, type OpenedStore } from '../support/test-store.js';

describe.each(backends)('MessageWriter on %s', (backend: Backend) => {
  let store: Store;
  let opened: OpenedStore;
  const now = (): number => Date.now();
  const row = (chatId: number, text: string): NewMessage => ({ chatId, senderId: 'a', text, kind: 'TEXT', replyTo: null, clientMsgId: null });

  beforeAll(async () => {
    opened = await openTestStore(backend, 'writer');
    store = opened.store;
    await store.upsertUser('a', { username: 'a' }, now());
  });
  afterAll(() => opened.close());

  it('announces each chat in accepted order, lane by lane, and fails only the senders of a chat that is gone', async () => {
    const chats = await Promise.all([1, 2, 3, 4, 5].map((i) => store.createGroup({ name: `w${i}`, description: null, avatarUrl: null, ownerId: 'a', memberIds: [] }, now())));
    const announced: AppendResult[] = [];
    // Three lanes whatever the engine's own default, so chats really are spread over lanes.
    const laned = Object.create(store, { writeConcurrency: { value: 3 } }) as Store;
    const writer = new MessageWriter<null>(laned, now, (results) => {
      for (const r of results) announced.push(r.result);
    });
    const sends: Promise<AppendResult>[] = [];
    for (let i = 1; i <= 20; i++) for (const chat of chats) sends.push(writer.append(row(chat.id, `${chat.id}:${i}`), null));
    // In the same turn as the sends above: a batch naming a chat that does not exist.
    const missing = writer.append(row(987_654, 'nowhere'), null);
    const alsoOk = writer.append(row(chats[0]!.id, `${chats[0]!.id}:21`), null);
    await expect(missing).rejects.toBeTruthy();
    const results = await Promise.all([...sends, alsoOk]);
    expect(results.every((r) => r.created)).toBe(true);
    for (const chat of chats) {
      const seen = announced.filter((r) => r.message.chatId === chat.id).map((r) => [r.message.seq, r.message.text]);
      const count = chat.id === chats[0]!.id ? 21 : 20;
      expect(seen).toEqual(Array.from({ length: count }, (_, i) => [i + 1, `${chat.id}:${i + 1}`]));
    }
    await writer.flush();
  });
});
