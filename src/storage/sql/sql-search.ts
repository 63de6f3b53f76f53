import { sql, type Kysely, type Selectable } from 'kysely';
import type { Message } from '../../domain/message.js';
import type { Phrase, SearchExpression } from '../../domain/search-expression.js';
import type { SearchQuery } from '../../ports/store.js';
import { toMessage } from './row-mappers.js';
import type { MessagesTable, Tables } from './tables.js';

/**
 * PostgreSQL's search document for a message. Anything but a letter or digit becomes a space
 * first, so words split exactly where SQLite's unicode61 splits them: its own parser would keep
 * `user@example.com`, `v1.2.3` or `-42` (in `item-42`) as single tokens that no word query finds.
 * The migration indexes this very expression; queries must spell it the same way.
 */
export const pgSearchDocumentSql = (column: 'text' | 'm.text'): string => `to_tsvector('simple'::regconfig, regexp_replace(${column}, '[^[:alnum:]]+', ' ', 'g'))`;
export const pgSearchDocument = (column: 'text' | 'm.text') => sql.raw(pgSearchDocumentSql(column));

// Words hold only letters and digits (the parser's guarantee), so quoting needs no escapes.
const quoted = (phrase: Phrase): string => `"${phrase.join(' ')}"`;

/** The expression back in web-search syntax, canonical: what `websearch_to_tsquery` reads. */
export function toWebsearch(expression: SearchExpression): string {
  return expression.anyOf.map((c) => [...c.all.map(quoted), ...c.none.map((p) => `-${quoted(p)}`)].join(' ')).join(' or ');
}

/** The expression as an FTS5 MATCH string (FTS5's own syntax would fail on raw user input). */
export function toFts5Match(expression: SearchExpression): string {
  return expression.anyOf
    .map((c) => {
      const all = `(${c.all.map(quoted).join(' AND ')})`;
      return c.none.length === 0 ? all : `(${all} NOT (${c.none.map(quoted).join(' OR ')}))`;
    })
    .join(' OR ');
}

/**
 * Message search. PostgreSQL: the GIN expression index on `pgSearchDocument` and
 * `ts_rank`; SQLite: the FTS5 table `messages_fts` and `bm25`. Membership is a subquery on
 * `members`, so a removed member stops seeing a chat at once.
 */
export class SqlSearch {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly kind: 'sqlite' | 'postgres',
  ) {}

  async searchMessages(query: SearchQuery): Promise<Message[]> {
    if (query.limit === 0) return [];
    const rows = this.kind === 'postgres' ? await this.postgres(query) : await this.sqlite(query);
    return rows.map(toMessage);
  }

  private async postgres({ memberId, expression, limit, offset }: SearchQuery): Promise<Selectable<MessagesTable>[]> {
    // websearch_to_tsquery is immutable: with a literal argument it folds to a constant.
    const text = toWebsearch(expression);
    const result = await sql<Selectable<MessagesTable>>`
      select m.* from messages m
      where ${pgSearchDocument('m.text')} @@ websearch_to_tsquery('simple'::regconfig, ${text})
        and m.chat_id in (select chat_id from members where user_id = ${memberId} and left_at is null)
        and m.deleted_at is null
      order by ts_rank(${pgSearchDocument('m.text')}, websearch_to_tsquery('simple'::regconfig, ${text})) desc,
        m.created_at desc, m.id desc
      limit ${limit} offset ${offset}`.execute(this.db);
    return result.rows;
  }

  private async sqlite({ memberId, expression, limit, offset }: SearchQuery): Promise<Selectable<MessagesTable>[]> {
    const result = await sql<Selectable<MessagesTable>>`
      select m.* from messages_fts join messages m on m.id = messages_fts.rowid
      where messages_fts match ${toFts5Match(expression)}
        and m.chat_id in (select chat_id from members where user_id = ${memberId} and left_at is null)
        and m.deleted_at is null
      order by messages_fts.rank, m.created_at desc, m.id desc
      limit ${limit} offset ${offset}`.execute(this.db);
    return result.rows;
  }
}
