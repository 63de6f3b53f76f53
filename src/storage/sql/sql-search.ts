import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Message } from '../../domain/message.js';
import type { Phrase, SearchExpression } from '../../domain/search-expression.js';
import type { SearchQuery } from '../../ports/store.js';
import { toMessage } from './row-mappers.js';
import { windowBm25 } from './window-bm25.js';
import { fts5PairToken, PAIR_TOKENS_FUNCTION, phrasePairs } from './word-pairs.js';
import type { Tables } from './tables.js';

/**
 * PostgreSQL documents also carry `@<message id >> ID_BUCKET_BITS>`: the id range of 16 384
 * messages they fall in, so a query can ask the GIN index for the newest ranges first (GIN has
 * no order of its own). Like `#`, no query word can hold `@`.
 */
export const ID_BUCKET_BITS = 14;
const BUCKET_SIZE = 2 ** ID_BUCKET_BITS;

/**
 * PostgreSQL's search document for a message: its words plus the lexemes `#<chat id>`,
 * `@<id bucket>` and its adjacent word pairs (`a b`, from `polychat_word_pairs`). Anything but
 * a letter or digit becomes a space first, so words split exactly where SQLite's unicode61
 * splits them: PostgreSQL's own parser would keep `user@example.com`, `v1.2.3` or `-42` (in
 * `item-42`) as tokens no word query finds.
 */
export const pgSearchDocumentSql = (text: string, chatId: string, messageId: string): string =>
  `to_tsvector('simple'::regconfig, regexp_replace(${text}, '[^[:alnum:]]+', ' ', 'g')) || array_to_tsvector(array['#' || ${chatId}::text, '@' || (${messageId} >> ${ID_BUCKET_BITS})::text] || ${PAIR_TOKENS_FUNCTION}(${text}))`;

/**
 * PostgreSQL's search index. No pending list (`fastupdate`): the backend that fills it past its
 * limit merges it into the index while a send waits, and word pairs fill it twice as fast (send
 * p99 37 -> 92-130 ms on the fixed bench; docs/benchmarks.md). Without it each insert updates
 * the index itself.
 */
export const PG_SEARCH_INDEX_SQL = 'create index message_search_doc on message_search using gin (doc) with (fastupdate = off)';

// Words hold only letters and digits (the parser's guarantee), so quoting needs no escapes.
const quoted = (phrase: Phrase): string => `"${phrase.join(' ')}"`;

/** The expression back in web-search syntax, canonical: what `websearch_to_tsquery` reads. */
export function toWebsearch(expression: SearchExpression): string {
  return expression.anyOf.map((c) => [...c.all.map(quoted), ...c.none.map((p) => `-${quoted(p)}`)].join(' ')).join(' or ');
}

/**
 * The expression as an FTS5 MATCH string (FTS5's own syntax would fail on raw user input): each
 * phrase on the `text` column, each of its word pairs on `pairs`, first, so that the rare pair
 * leads FTS5's AND and the phrase is only checked where the pair is.
 */
export function toFts5Match(expression: SearchExpression): string {
  const clauses = expression.anyOf.map((c) => {
    const pairs = c.all.flatMap(phrasePairs).map((p) => `pairs : ${fts5PairToken(p)}`);
    const all = `(${[...pairs, ...c.all.map((p) => `text : ${quoted(p)}`)].join(' AND ')})`;
    return c.none.length === 0 ? all : `(${all} NOT (${c.none.map((p) => `text : ${quoted(p)}`).join(' OR ')}))`;
  });
  return `(${clauses.join(' OR ')})`;
}

/**
 * PostgreSQL: what the GIN index is asked, per clause: the word pairs of its phrases when it has
 * any (their small posting lists, instead of those of the common words they are made of, which
 * each index scan would decode again), else the clause itself. The whole expression is then
 * checked on the rows found (`filter`), so a pair never matches on its own. Pair lexemes are
 * built by the same `lower()` as the index's.
 */
function pgIndexQuery(expression: SearchExpression): { index: RawBuilder<unknown>; filter: RawBuilder<unknown> | null } {
  let narrowed = false;
  const clauses = expression.anyOf.map((c) => {
    const pairs = c.all.flatMap(phrasePairs).map(([a, b]) => sql`cast('''' || lower(${`${a} ${b}`}) || '''' as tsquery)`);
    if (pairs.length === 0) return sql`websearch_to_tsquery('simple'::regconfig, ${toWebsearch({ anyOf: [c] })})`;
    narrowed = true;
    return sql`(${sql.join(pairs, sql` && `)})`;
  });
  // ts_match_vq is the function behind @@: called by name it is a filter, never an index condition.
  const filter = narrowed ? sql`ts_match_vq(s.doc, websearch_to_tsquery('simple'::regconfig, ${toWebsearch(expression)}))` : null;
  return { index: sql`(${sql.join(clauses, sql` || `)})`, filter };
}

/**
 * Relevance is computed over the newest RANK_WINDOW matches (or as many as the page reaches):
 * ranking every match of a very common word would cost as many rank computations as the caller
 * has messages with it. Past the window, older matches are reached by adding words.
 */
export const RANK_WINDOW = 1000;
const rankWindow = (limit: number, offset: number): number => Math.max(RANK_WINDOW, limit + offset);

/**
 * SQLite: up to this many matches in all chats, filtering them by the caller's chats afterwards
 * is cheaper than narrowing inside the index (measured on 1 000 000 messages, a caller in 100
 * chats: 2–10 ms instead of 16–25 ms for words in ≤ 3400 messages; the crossover is near 6000).
 */
export const FEW_MATCHES = 5000;
const MAX_BOUND_CHATS = 10_000;

/**
 * PostgreSQL: id buckets in the first step, and the most in any step. GIN steps through every
 * bucket of the key at each candidate, so a wide key costs more than it saves: 59 buckets took
 * 50–70 ms where all 62 without the key took 14.
 */
const FIRST_SPAN = 2;
const MAX_SPAN = 8;
/** PostgreSQL: chats per GIN index scan (measured best of 5, 10 and 20 on the bench's corpus). */
const CHAT_GROUP = 10;
const MAX_CHAT_GROUPS = 32;

interface Hit {
  readonly id: number;
  readonly score: number;
}

/**
 * Message search. Membership is read first; the chats then narrow the match inside the index
 * (PostgreSQL: `#<chat>` lexemes in the GIN-indexed `message_search.doc`; SQLite: the indexed
 * `chat_id` column of FTS5 `messages_fts` — or, when the words match at most FEW_MATCHES
 * messages in all chats, a filter of those by chat). Both take the caller's newest
 * `rankWindow` matches, rank them and read only the page's rows from messages.
 * Relevance: `ts_rank` on PostgreSQL, `windowBm25` on SQLite; ties newest first (ids grow in
 * commit order).
 */
export class SqlSearch {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly kind: 'sqlite' | 'postgres',
  ) {}

  async searchMessages(query: SearchQuery): Promise<Message[]> {
    if (query.limit === 0) return [];
    const chats = await this.db.selectFrom('members').select('chat_id').where('user_id', '=', query.memberId).where('left_at', 'is', null).execute();
    if (chats.length === 0) return [];
    const chatIds = chats.map((c) => Number(c.chat_id));
    if (this.kind === 'postgres') return this.page(await this.postgresHits(query, chatIds), query);
    const window = await this.sqliteWindow(query, chatIds);
    const scores = windowBm25(
      window.map((r) => r.text),
      query.expression,
    );
    return this.page(
      window.map((r, i) => ({ id: Number(r.id), score: scores[i]! })),
      query,
    );
  }

  /** The page of the ranked hits, read from messages (a message deleted since is left out). */
  private async page(hits: readonly Hit[], query: SearchQuery): Promise<Message[]> {
    const pageHits = ranked(hits, query);
    if (pageHits.length === 0) return [];
    const rows = await this.db
      .selectFrom('messages')
      .selectAll()
      .where(
        'id',
        'in',
        pageHits.map((h) => h.id),
      )
      .where('deleted_at', 'is', null)
      .execute();
    const byId = new Map(rows.map((r) => [Number(r.id), r]));
    return pageHits.flatMap((h) => {
      const row = byId.get(h.id);
      return row ? [toMessage(row)] : [];
    });
  }

  /**
   * The caller's newest `rankWindow` matches with their `ts_rank`. GIN returns matches in no
   * order, so asking it for all of them and keeping the newest costs every match: GIN steps
   * through each and a heap tuple is read for each (14 000 for a stop word: 141 ms on
   * 1 000 000 messages). Instead the id buckets narrow
   * the index scan to the newest ranges first: two buckets, then as many as the density seen so
   * far says the rest of the window needs (+25 %; at least half the ground covered so far, at
   * most MAX_SPAN). When that is half of what is left or more, or nothing matched yet (rare
   * words: the whole index is cheap for them), all the older matches at once, without buckets.
   * The same rows as one scan of everything.
   */
  private async postgresHits({ expression, limit, offset }: SearchQuery, chatIds: readonly number[]): Promise<Hit[]> {
    // The chats as tsquery literals of `#<id>` lexemes (ids are integers: nothing to escape).
    // Groups of CHAT_GROUP, or larger ones for a member of very many chats (a statement of
    // thousands of index scans would take longer to plan than to run).
    const size = Math.max(CHAT_GROUP, Math.ceil(chatIds.length / MAX_CHAT_GROUPS));
    const chatGroups: string[] = [];
    for (let i = 0; i < chatIds.length; i += size) chatGroups.push(chatIds.slice(i, i + size).map((id) => `'#${id}'`).join(' | '));
    const match = pgIndexQuery(expression);
    const rank = sql`websearch_to_tsquery('simple'::regconfig, ${toWebsearch(expression)})`;
    const window = rankWindow(limit, offset);
    const top = await sql<{ top: string | null }>`select max(message_id) as top from message_search`.execute(this.db);
    if (top.rows[0]?.top == null) return [];
    const newest = Math.floor(Number(top.rows[0].top) / BUCKET_SIZE);
    const hits: Hit[] = [];
    let upper = newest;
    let span = FIRST_SPAN;
    while (hits.length < window) {
      const lower = upper - span + 1;
      const rest = lower <= 0;
      const buckets = rest ? null : Array.from({ length: span }, (_, i) => `'@${lower + i}'`).join(' | ');
      hits.push(...(await this.postgresMatches(match, rank, chatGroups, buckets, (upper + 1) * BUCKET_SIZE, window - hits.length)));
      if (rest) break;
      const covered = newest - lower + 1;
      upper = lower - 1;
      // The buckets the rest of the window needs at the density seen so far (+25 %).
      const needed = hits.length === 0 ? Number.POSITIVE_INFINITY : Math.ceil((((window - hits.length) * covered) / hits.length) * 1.25);
      span = needed * 2 >= upper + 1 ? Number.POSITIVE_INFINITY : Math.min(MAX_SPAN, Math.max(needed, Math.ceil(covered / 2)));
    }
    return hits;
  }

  /** The newest `take` matches below id `below`, in the buckets named (or in all of them). */
  private async postgresMatches(match: ReturnType<typeof pgIndexQuery>, rank: RawBuilder<unknown>, chatGroups: readonly string[], buckets: string | null, below: number, take: number): Promise<Hit[]> {
    // Literal arguments of immutable functions: the planner folds them and uses the GIN index.
    // The words, a group of chats and the buckets are GIN scan keys of their own: an OR inside
    // one key would be tested at every item of the other lexemes. One index scan per group of
    // CHAT_GROUP chats, ORed as bitmaps: GIN steps through every chat of a key at each
    // candidate, so 100 chats in one key cost ~40× what 10 cost, not 10× (docs/benchmarks.md).
    const inBuckets = buckets === null ? sql`` : sql`and s.doc @@ cast(${buckets} as tsquery)`;
    const arms = chatGroups.map((chats) => sql`(s.doc @@ ${match.index} and s.doc @@ cast(${chats} as tsquery) ${inBuckets})`);
    const result = await sql<{ message_id: string; score: number }>`
      with matches as (
        select s.message_id, s.doc from message_search s
        where (${sql.join(arms, sql` or `)})
          and s.message_id < ${below}
          ${match.filter === null ? sql`` : sql`and ${match.filter}`}
        -- '+ 0': the newest matches from the GIN bitmap, never a walk down the primary key.
        order by s.message_id + 0 desc
        limit ${take}
      )
      select message_id, ts_rank(doc, ${rank}) as score from matches`.execute(this.db);
    return result.rows.map((r) => ({ id: Number(r.message_id), score: r.score }));
  }

  /** The caller's newest `rankWindow` matches with their text, newest first. */
  private async sqliteWindow({ expression, limit, offset }: SearchQuery, chatIds: readonly number[]): Promise<{ id: number; text: string }[]> {
    const words = toFts5Match(expression);
    const window = rankWindow(limit, offset);
    // How many messages match in all chats, counted only up to the bound (FTS5 alone, no rank),
    // for the expression loosened to its words (`relaxed`): an upper bound of the matches, and
    // FTS5 counts plain words by skipping along their doclists where a phrase of common words
    // reads the positions of every message holding both (9 ms before reaching the bound).
    const probe = await sql<{ n: number }>`
      select count(*) as n from (select 1 from messages_fts where messages_fts match ${toFts5Match(relaxed(expression))} limit ${FEW_MATCHES + 1})`.execute(this.db);
    // The chats are bound one parameter each (the statement stays cached across callers):
    // far below SQLite's 32 766 parameters, else the chats go inside the MATCH string.
    const few = chatIds.length <= MAX_BOUND_CHATS && Number(probe.rows[0]?.n ?? 0) <= FEW_MATCHES;
    // Few matches: walk them newest first and keep the caller's (one primary-key lookup each;
    // CROSS JOIN keeps FTS5 as the outer loop). Many: the chats narrow the match inside the
    // index, which costs a step through the ~100-way chat OR per candidate but never visits
    // the other chats' matches. Both give the caller's newest `window` matches; FTS5 walks
    // rowids newest first by itself and stops there.
    const result = few
      ? await sql<{ id: number; text: string }>`select c.id, c.text from messages_fts f cross join messages c on c.id = f.rowid
          where messages_fts match ${words} and c.chat_id in (${sql.join(chatIds)}) and c.deleted_at is null
          order by f.rowid desc
          limit ${window}`.execute(this.db)
      : await sql<{ id: number; text: string }>`select m.id, m.text from (
            select rowid as id from messages_fts
            where messages_fts match ${`chat_id : (${chatIds.map((id) => `"${id}"`).join(' OR ')}) AND ${words}`}
            order by rowid desc
            limit ${window}
          ) f cross join messages m on m.id = f.id
          where m.deleted_at is null`.execute(this.db);
    return result.rows;
  }
}

/** Every phrase as its separate words, exclusions dropped: matches at least what the expression matches. */
function relaxed(expression: SearchExpression): SearchExpression {
  return { anyOf: expression.anyOf.map((c) => ({ all: c.all.flatMap((phrase) => phrase.map((w) => [w])), none: [] })) };
}

/** Best first, then newest; the page of them. */
function ranked(hits: readonly Hit[], { limit, offset }: SearchQuery): Hit[] {
  return [...hits].sort((a, b) => b.score - a.score || b.id - a.id).slice(offset, offset + limit);
}
