import { sql, type Kysely, type Selectable } from 'kysely';
import type { Message } from '../../domain/message.js';
import type { Phrase, SearchExpression } from '../../domain/search-expression.js';
import type { SearchQuery } from '../../ports/store.js';
import { toMessage } from './row-mappers.js';
import type { MessagesTable, Tables } from './tables.js';

/**
 * PostgreSQL's search document for a message: its words plus the lexeme `#<chat id>` (no word
 * holds `#`, so no query word can match it). Anything but a letter or digit becomes a space
 * first, so words split exactly where SQLite's unicode61 splits them: PostgreSQL's own parser
 * would keep `user@example.com`, `v1.2.3` or `-42` (in `item-42`) as tokens no word query finds.
 */
export const pgSearchDocumentSql = (text: string, chatId: string): string =>
  `to_tsvector('simple'::regconfig, regexp_replace(${text}, '[^[:alnum:]]+', ' ', 'g')) || array_to_tsvector(array['#' || ${chatId}::text])`;

// Words hold only letters and digits (the parser's guarantee), so quoting needs no escapes.
const quoted = (phrase: Phrase): string => `"${phrase.join(' ')}"`;

/** The expression back in web-search syntax, canonical: what `websearch_to_tsquery` reads. */
export function toWebsearch(expression: SearchExpression): string {
  return expression.anyOf.map((c) => [...c.all.map(quoted), ...c.none.map((p) => `-${quoted(p)}`)].join(' ')).join(' or ');
}

/** The expression as an FTS5 MATCH string on the `text` column (FTS5's own syntax would fail on raw user input). */
export function toFts5Match(expression: SearchExpression): string {
  const clauses = expression.anyOf.map((c) => {
    const all = `(${c.all.map(quoted).join(' AND ')})`;
    return c.none.length === 0 ? all : `(${all} NOT (${c.none.map(quoted).join(' OR ')}))`;
  });
  return `text : (${clauses.join(' OR ')})`;
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
 * Message search. Membership is read first; the chats then narrow the match inside the index
 * (PostgreSQL: `#<chat>` lexemes in the GIN-indexed `message_search.doc`; SQLite: the indexed
 * `chat_id` column of FTS5 `messages_fts` — or, when the words match at most FEW_MATCHES
 * messages in all chats, a filter of those by chat), and only the page's rows are read from messages.
 * Relevance: `ts_rank` on PostgreSQL, `bm25` (text column only) on SQLite; ties newest first
 * (ids grow in commit order).
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
    const rows = this.kind === 'postgres' ? await this.postgres(query, chatIds) : await this.sqlite(query, chatIds);
    return rows.map(toMessage);
  }

  private async postgres({ expression, limit, offset }: SearchQuery, chatIds: readonly number[]): Promise<Selectable<MessagesTable>[]> {
    // The chats as a tsquery literal of `#<id>` lexemes (ids are integers: nothing to escape).
    const inChats = chatIds.map((id) => `'#${id}'`).join(' | ');
    // Literal arguments of immutable functions: the planner folds them and uses the GIN index.
    const words = toWebsearch(expression);
    const result = await sql<Selectable<MessagesTable>>`
      with matches as (
        select s.message_id, s.doc from message_search s
        -- Two conditions, not one 'words && chats' query: as two GIN scan keys the 100-way OR
        -- is checked only at the words' items (one key made GIN test it at every chat item).
        where s.doc @@ websearch_to_tsquery('simple'::regconfig, ${words})
          and s.doc @@ cast(${inChats} as tsquery)
        -- '+ 0': the newest matches from the GIN bitmap, never a walk down the primary key.
        order by s.message_id + 0 desc
        limit ${rankWindow(limit, offset)}
      ),
      hits as (
        select message_id, ts_rank(doc, websearch_to_tsquery('simple'::regconfig, ${words})) as score from matches
        order by score desc, message_id desc
        limit ${limit} offset ${offset}
      )
      select m.* from hits join messages m on m.id = hits.message_id
      where m.deleted_at is null
      order by hits.score desc, hits.message_id desc`.execute(this.db);
    return result.rows;
  }

  private async sqlite({ expression, limit, offset }: SearchQuery, chatIds: readonly number[]): Promise<Selectable<MessagesTable>[]> {
    const words = toFts5Match(expression);
    const window = rankWindow(limit, offset);
    // How many messages match in all chats, counted only up to the bound (FTS5 alone, no rank).
    const probe = await sql<{ n: number }>`
      select count(*) as n from (select 1 from messages_fts where messages_fts match ${words} limit ${FEW_MATCHES + 1})`.execute(this.db);
    // The chats are bound one parameter each (the statement stays cached across callers):
    // far below SQLite's 32 766 parameters, else the chats go inside the MATCH string.
    const few = chatIds.length <= MAX_BOUND_CHATS && Number(probe.rows[0]?.n ?? 0) <= FEW_MATCHES;
    // Few matches: walk them newest first and keep the caller's (one primary-key lookup each;
    // CROSS JOIN keeps FTS5 as the outer loop). Many: the chats narrow the match inside the
    // index, which costs a step through the ~100-way chat OR per candidate but never visits
    // the other chats' matches. Both give the caller's newest `window` matches.
    const candidates = few
      ? sql`select f.rowid as id, bm25(messages_fts, 1.0, 0.0) as score from messages_fts f cross join messages c on c.id = f.rowid
          where messages_fts match ${words} and c.chat_id in (${sql.join(chatIds)})
          order by f.rowid desc
          limit ${window}`
      : sql`select rowid as id, bm25(messages_fts, 1.0, 0.0) as score from messages_fts
          where messages_fts match ${`chat_id : (${chatIds.map((id) => `"${id}"`).join(' OR ')}) AND ${words}`}
          order by rowid desc
          limit ${window}`;
    // FTS5 walks rowids newest first by itself and computes bm25 only for the rows it emits.
    const result = await sql<Selectable<MessagesTable>>`
      select m.* from (
        select id, score from (${candidates})
        order by score, id desc
        limit ${limit} offset ${offset}
      ) hits join messages m on m.id = hits.id
      where m.deleted_at is null
      order by hits.score, hits.id desc`.execute(this.db);
    return result.rows;
  }
}
