import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSearchExpression } from '../../src/domain/search-expression.js';
import type { Store } from '../../src/ports/store.js';
import { FEW_MATCHES, RANK_WINDOW } from '../../src/storage/sql/sql-search.js';
import { backends, type Backend } from '../support/backends.js';
import { openTestStore, type OpenedStore } from '../support/test-store.js';

/**
 * One search suite, both storages: the `searchMessages` guarantees of src/ports/store.ts and the
 * web-search syntax of src/domain/search-expression.ts, on real databases (PostgreSQL GIN +
 * websearch_to_tsquery, SQLite FTS5). Each test uses its own chats, so results never mix.
 */
describe.each(backends)('message search on %s', (backend: Backend) => {
  let store: Store;
  let opened: OpenedStore;
  let now = 1_700_000_000_000;
  const tick = (): number => (now += 1000);

  beforeAll(async () => {
    opened = await openTestStore(backend, 'search');
    store = opened.store;
    for (const id of ['me', 'peer', 'stranger']) await store.upsertUser(id, { username: id }, tick());
  });
  afterAll(() => opened.close());

  /** A fresh group of `me` and `peer` holding the texts, sent one per tick (oldest first). */
  async function chatWith(texts: readonly string[], members: readonly string[] = ['peer']): Promise<{ chatId: number; ids: number[] }> {
    const chat = await store.createGroup({ name: 'g', description: null, avatarUrl: null, ownerId: 'me', memberIds: [...members] }, tick());
    const ids: number[] = [];
    for (const text of texts) {
      const [r] = await store.appendMessages([{ chatId: chat.id, senderId: 'me', text, kind: 'text', replyTo: null, clientMsgId: null }], tick());
      ids.push(r!.message.id);
    }
    return { chatId: chat.id, ids };
  }

  const search = async (q: string, options: { as?: string; limit?: number; offset?: number; chatId?: number } = {}): Promise<string[]> => {
    const expression = parseSearchExpression(q);
    if (!expression) return [];
    const found = await store.searchMessages({ memberId: options.as ?? 'me', expression, limit: options.limit ?? 50, offset: options.offset ?? 0 });
    return found.filter((m) => options.chatId === undefined || m.chatId === options.chatId).map((m) => m.text);
  };

  it('finds Russian and English words whatever their case, as whole words, with no stemming', async () => {
    const { chatId } = await chatWith(['Привет, МИР! Как дела?', 'Hello WORLD from polychat', 'ёлка и йогурт', 'worldwide news', 'приветствие']);
    expect(await search('мир', { chatId })).toEqual(['Привет, МИР! Как дела?']);
    expect(await search('ПРИВЕТ', { chatId })).toEqual(['Привет, МИР! Как дела?']);
    expect(await search('world', { chatId })).toEqual(['Hello WORLD from polychat']);
    expect(await search('Hello', { chatId })).toEqual(['Hello WORLD from polychat']);
    expect(await search('Ёлка', { chatId })).toEqual(['ёлка и йогурт']);
    expect(await search('йогурт', { chatId })).toEqual(['ёлка и йогурт']);
    // Language-neutral: no stemming, so a different form of the word is a different word.
    expect(await search('дела', { chatId })).toEqual(['Привет, МИР! Как дела?']);
    expect(await search('дело', { chatId })).toEqual([]);
    expect(await search('polychats', { chatId })).toEqual([]);
  });

  it('splits words at anything but a letter or digit, alike on both storages', async () => {
    const { chatId } = await chatWith(['order item-42 shipped', 'write to user@example.com', 'release v1.2.3 is out', 'pi is 3.14', 'snake_case_name', "don't panic"]);
    expect(await search('42', { chatId })).toEqual(['order item-42 shipped']);
    expect(await search('item-42', { chatId })).toEqual(['order item-42 shipped']);
    expect(await search('example', { chatId })).toEqual(['write to user@example.com']);
    expect(await search('user@example.com', { chatId })).toEqual(['write to user@example.com']);
    expect(await search('v1.2.3', { chatId })).toEqual(['release v1.2.3 is out']);
    expect(await search('14', { chatId })).toEqual(['pi is 3.14']);
    expect(await search('case', { chatId })).toEqual(['snake_case_name']);
    expect(await search('panic don', { chatId })).toEqual(["don't panic"]);
  });

  it('requires every word, reads "quoted words" as a phrase, -word as an exclusion and `or` as an alternative', async () => {
    const { chatId } = await chatWith(['red apple pie', 'green apple', 'pie red apple', 'blue sky', 'красное яблоко']);
    expect((await search('apple red', { chatId })).sort()).toEqual(['pie red apple', 'red apple pie']);
    expect(await search('"red apple pie"', { chatId })).toEqual(['red apple pie']);
    expect((await search('"red apple"', { chatId })).sort()).toEqual(['pie red apple', 'red apple pie']);
    expect(await search('"apple red"', { chatId })).toEqual([]);
    expect(await search('apple -red', { chatId })).toEqual(['green apple']);
    expect(await search('apple -"red apple"', { chatId })).toEqual(['green apple']);
    expect((await search('sky or яблоко', { chatId })).sort()).toEqual(['blue sky', 'красное яблоко']);
    expect((await search('green apple OR blue', { chatId })).sort()).toEqual(['blue sky', 'green apple']);
    // Punctuation separates words; operators in a user's text never break the query.
    expect((await search('apple,red!', { chatId })).sort()).toEqual(['pie red apple', 'red apple pie']);
    for (const q of ['"unclosed apple', 'apple AND NOT (', '*', 'NEAR(apple red)', "o'clock ) ( \" -", 'red:apple', '^apple']) {
      await expect(search(q, { chatId }), q).resolves.toBeInstanceOf(Array);
    }
    expect(await search('"unclosed apple', { chatId })).toEqual([]);
    expect(await search('"green apple', { chatId })).toEqual(['green apple']);
    // Nothing to look for: no word, or only exclusions.
    expect(parseSearchExpression('!!! ??? -')).toBeUndefined();
    expect(parseSearchExpression('-apple')).toBeUndefined();
  });

  it('finds a phrase by its words in order, across case and punctuation, never by its word pairs alone', async () => {
    const { chatId } = await chatWith(['Green, APPLE pie', 'apple green', 'green then apple', 'one two x two three', 'one two three', 'ёж-Ёлка']);
    expect(await search('"green apple"', { chatId })).toEqual(['Green, APPLE pie']);
    expect(await search('"apple pie"', { chatId })).toEqual(['Green, APPLE pie']);
    // Both pairs of the phrase occur in the first text, but not as the phrase.
    expect(await search('"one two three"', { chatId })).toEqual(['one two three']);
    expect(await search('"ЁЖ ёлка"', { chatId })).toEqual(['ёж-Ёлка']);
    expect(await search('"green apple" or "two three"', { chatId })).toHaveLength(3);
    // A word too long for a PostgreSQL lexeme is stored all the same (and its neighbours found).
    const long = `${'x'.repeat(2100)} and beyond`;
    const { chatId: other } = await chatWith([long]);
    expect(await search('"and beyond"', { chatId: other })).toEqual([long]);
  });

  it('orders by relevance, then newest first, and pages like history', async () => {
    const { chatId } = await chatWith(['kiwi', 'kiwi banana cherry date elderberry fig grape', 'kiwi kiwi kiwi', 'kiwi', 'kiwi']);
    const all = await store.searchMessages({ memberId: 'me', expression: parseSearchExpression('kiwi')!, limit: 50, offset: 0 });
    const mine = all.filter((m) => m.chatId === chatId);
    expect(mine.map((m) => m.text)[0]).toBe('kiwi kiwi kiwi');
    // The three plain 'kiwi' messages rank alike: newest first.
    const plain = mine.filter((m) => m.text === 'kiwi').map((m) => m.id);
    expect(plain).toEqual([...plain].sort((a, b) => b - a));
    expect(mine).toHaveLength(5);
    const pages = [];
    for (let offset = 0; offset < 5; offset += 2) pages.push(...(await store.searchMessages({ memberId: 'me', expression: parseSearchExpression('kiwi')!, limit: 2, offset })));
    expect(pages.map((m) => m.id)).toEqual(mine.map((m) => m.id));
    expect(await store.searchMessages({ memberId: 'me', expression: parseSearchExpression('kiwi')!, limit: 0, offset: 0 })).toEqual([]);
  });

  it('searches only chats the user is a current member of', async () => {
    const { chatId: shared } = await chatWith(['mango in the shared chat']);
    const { chatId: privateToMe } = await chatWith(['mango only for me'], []);
    expect((await search('mango')).sort()).toEqual(['mango in the shared chat', 'mango only for me']);
    expect(await search('mango', { as: 'peer' })).toEqual(['mango in the shared chat']);
    expect(await search('mango', { as: 'stranger' })).toEqual([]);
    await store.removeMembers(shared, ['peer'], tick());
    expect(await search('mango', { as: 'peer' })).toEqual([]);
    await store.addMembers(shared, ['peer'], 'member', tick());
    expect(await search('mango', { as: 'peer' })).toEqual(['mango in the shared chat']);
    await store.deleteChat(privateToMe);
    expect(await search('mango')).toEqual(['mango in the shared chat']);
    // A deleted chat's messages leave the index too (PostgreSQL's side table has no foreign key).
    if (backend === 'postgres') {
      const db = (store as unknown as { db: Kysely<unknown> }).db;
      const left = await sql<{ n: number }>`select count(*)::int as n from message_search s where not exists (select 1 from messages m where m.id = s.message_id)`.execute(db);
      expect(left.rows[0]?.n).toBe(0);
    }
  });

  it('finds the caller\'s matches of a word that many messages of other chats hold, best and newest first', async () => {
    // More matches elsewhere than SQLite filters after matching (FEW_MATCHES): the chats must
    // narrow the match inside the index; with few, the caller's chats filter the matches.
    const elsewhere = await store.createGroup({ name: 'busy', description: null, avatarUrl: null, ownerId: 'stranger', memberIds: ['peer'] }, tick());
    const at = tick();
    for (let sent = 0; sent <= FEW_MATCHES; sent += 500) {
      const batch = Array.from({ length: Math.min(500, FEW_MATCHES + 1 - sent) }, (_, i) => ({ chatId: elsewhere.id, senderId: 'stranger', text: `quince ${sent + i}`, kind: 'text' as const, replyTo: null, clientMsgId: null }));
      await store.appendMessages(batch, at);
    }
    await chatWith(['quince jam', 'quince quince tart', 'no match here', 'quince again']);
    expect(await search('quince')).toEqual(['quince quince tart', 'quince again', 'quince jam']);
    expect(await search('quince tart')).toEqual(['quince quince tart']);
    expect(await search('quince', { as: 'stranger', limit: 3 })).toHaveLength(3);
    expect((await search('quince', { as: 'stranger', limit: 200 })).every((t) => t.startsWith('quince '))).toBe(true);
  });

  it('follows changes of the text: an edited or erased (deleted) text is no longer found', async () => {
    const { chatId, ids } = await chatWith(['papaya secret plan', 'papaya salad']);
    // The delete API lives elsewhere; what matters here is that the index follows the column.
    const db = (store as unknown as { db: Kysely<unknown> }).db;
    await sql`update messages set text = ${'guava salad'}, edited_at = ${tick()} where id = ${ids[1]!}`.execute(db);
    expect(await search('papaya', { chatId })).toEqual(['papaya secret plan']);
    expect(await search('guava', { chatId })).toEqual(['guava salad']);
    // Deletion erases the text and stamps deleted_at: neither the old words nor the row show.
    await sql`update messages set text = ${''}, deleted_at = ${tick()} where id = ${ids[0]!}`.execute(db);
    expect(await search('papaya', { chatId })).toEqual([]);
    expect(await search('secret plan', { chatId })).toEqual([]);
    // deleted_at alone (text kept, e.g. a soft delete) hides it as well.
    await sql`update messages set deleted_at = ${tick()} where id = ${ids[1]!}`.execute(db);
    expect(await search('guava', { chatId })).toEqual([]);
  });

  it('finds matches in every one of many chats, newest first among equals', async () => {
    // More chats than PostgreSQL asks about in one index scan (10), and more than its 32 scans
    // of 10 hold: every group counts, however the chats are grouped.
    const chats = 335;
    const texts: string[] = [];
    for (let k = 0; k < chats; k++) {
      await chatWith([`plum ${k}`, k % 2 === 0 ? 'no fruit' : 'plum plum plum']);
      texts.push(`plum ${k}`);
    }
    const triples = Math.floor(chats / 2);
    const found = await search('plum', { limit: 200 });
    expect(found.slice(0, triples)).toEqual(Array.from({ length: triples }, () => 'plum plum plum'));
    expect(found.slice(triples)).toEqual(texts.reverse().slice(0, 200 - triples));
  });

  // Last in the file: it stores messages with ids of its own choosing, far above the others.
  it('ranks exactly the caller\'s newest RANK_WINDOW matches when they spread over many id ranges', async () => {
    // 1500 matches: the newest 500 one every 100 ids, the older ones every 700 (~160 and ~23 per
    // PostgreSQL id bucket of 16 384), so the window takes several narrowing steps of different
    // sizes. The best text sits just outside the window, the second best just inside.
    const chat = await store.createGroup({ name: 'spread', description: null, avatarUrl: null, ownerId: 'me', memberIds: [] }, tick());
    const count = RANK_WINDOW + 500;
    const base = 2 ** 40;
    const outside = count - RANK_WINDOW - 1;
    const idOf = (k: number): number => (k < RANK_WINDOW ? k * 700 : RANK_WINDOW * 700 + (k - RANK_WINDOW) * 100);
    const texts = Array.from({ length: count }, (_, k) => (k === outside ? 'fig fig fig fig' : k === outside + 1 ? 'fig fig fig' : `fig ${k}`));
    const db = (store as unknown as { db: Kysely<unknown> }).db;
    const at = tick();
    for (let k = 0; k < count; k += 250) {
      const rows = texts.slice(k, k + 250).map((text, i) => sql`(${base + idOf(k + i)}, ${chat.id}, ${'me'}, ${text}, ${k + i + 1}, ${'TEXT'}, ${at})`);
      await sql`insert into messages (id, chat_id, sender_id, text, seq, kind, created_at) values ${sql.join(rows)}`.execute(db);
    }
    if (backend === 'postgres') await sql`select setval(pg_get_serial_sequence('messages', 'id'), (select max(id) from messages))`.execute(db);
    await sql`update chats set last_seq = ${count} where id = ${chat.id}`.execute(db);
    const top = await search('fig', { chatId: chat.id, limit: 5 });
    expect(top).toEqual(['fig fig fig', `fig ${count - 1}`, `fig ${count - 2}`, `fig ${count - 3}`, `fig ${count - 4}`]);
    // A page deeper than the window widens it to the page: now the best text is inside.
    const deep = await search('fig', { chatId: chat.id, limit: RANK_WINDOW + 200 });
    expect(deep.slice(0, 3)).toEqual(['fig fig fig fig', 'fig fig fig', `fig ${count - 1}`]);
    expect(deep).toHaveLength(RANK_WINDOW + 200);
    // Messages sent after it still come first among equals (ids keep growing).
    const { chatId } = await chatWith(['fig newest']);
    expect(await search('fig newest', { chatId })).toEqual(['fig newest']);
  });
});
