import { sql, type Kysely, type Migration } from 'kysely';
import { PG_SEARCH_INDEX_SQL, pgSearchDocumentSql } from './sql-search.js';
import { MAX_PAIR_BYTES, PAIR_TOKENS_FUNCTION } from './word-pairs.js';

type Flavor = 'sqlite' | 'postgres';

/**
 * The PostgreSQL functions behind the search triggers, with the current document shape: created
 * by 0003, replaced by the migrations that change the document.
 */
async function createPgSearchFunctions(db: Kysely<unknown>): Promise<void> {
  // A text's adjacent word pairs as lexemes `a b` (lower case: no word holds a space). PL/pgSQL,
  // not a subquery in the document's expression: that one re-split the text for every pair
  // (320 µs per message; this is ~4 µs over the split itself).
  await sql.raw(`create or replace function ${PAIR_TOKENS_FUNCTION}(message text) returns text[] language plpgsql immutable strict parallel safe as $$
    declare
      words text[] := regexp_split_to_array(lower(btrim(regexp_replace(message, '[^[:alnum:]]+', ' ', 'g'))), ' ');
      pairs text[] := '{}';
    begin
      for i in 1 .. coalesce(cardinality(words), 0) - 1 loop
        if octet_length(words[i]) + octet_length(words[i + 1]) + 1 < ${MAX_PAIR_BYTES} then
          pairs := pairs || (words[i] || ' ' || words[i + 1]);
        end if;
      end loop;
      return pairs;
    end $$`).execute(db);
  await sql.raw(`create or replace function message_search_sync() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' then
        delete from message_search where message_id = old.id;
      end if;
      if new.deleted_at is null then
        insert into message_search (message_id, doc) values (new.id, ${pgSearchDocumentSql('new.text', 'new.chat_id', 'new.id')});
      end if;
      return null;
    end $$`).execute(db);
  // New messages arrive a batch per statement: index them set-wise, one trigger call per
  // statement (a row trigger cost ~50 µs of backend CPU per message on the send path).
  await sql.raw(`create or replace function message_search_insert_rows() returns trigger language plpgsql as $$
    begin
      insert into message_search (message_id, doc)
        select id, ${pgSearchDocumentSql('text', 'chat_id', 'id')} from inserted where deleted_at is null;
      return null;
    end $$`).execute(db);
}

/**
 * Schema history. One definition for both databases; only the id columns differ
 * (SQLite's INTEGER PRIMARY KEY AUTOINCREMENT vs PostgreSQL's identity).
 */
export function migrations(flavor: Flavor): Record<string, Migration> {
  const idColumn = (db: Kysely<unknown>, table: string) =>
    flavor === 'sqlite'
      ? db.schema.createTable(table).addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      : db.schema.createTable(table).addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity());
  const big = flavor === 'sqlite' ? 'integer' : 'bigint';

  return {
    '0001_initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('username', 'text')
          .addColumn('name', 'text')
          .addColumn('first_name', 'text')
          .addColumn('last_name', 'text')
          .addColumn('email', 'text')
          .addColumn('description', 'text')
          .addColumn('avatar_url', 'text')
          .addColumn('created_at', big, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('users_username').on('users').column('username').execute();

        await db.schema
          .createTable('accounts')
          .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id'))
          .addColumn('username', 'text', (c) => c.notNull())
          .addColumn('username_key', 'text', (c) => c.notNull().unique())
          .addColumn('email', 'text')
          .addColumn('email_key', 'text', (c) => c.unique())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('settings')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('counters')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('value', big, (c) => c.notNull())
          .execute();

        await idColumn(db, 'chats')
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('name', 'text')
          .addColumn('description', 'text')
          .addColumn('avatar_url', 'text')
          .addColumn('private_key', 'text', (c) => c.unique())
          .addColumn('created_at', big, (c) => c.notNull())
          .addColumn('updated_at', big, (c) => c.notNull())
          .addColumn('last_seq', big, (c) => c.notNull().defaultTo(0))
          .execute();

        await db.schema
          .createTable('members')
          .addColumn('chat_id', big, (c) => c.notNull().references('chats.id').onDelete('cascade'))
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('joined_at', big, (c) => c.notNull())
          .addColumn('left_at', big)
          .addColumn('delivered_seq', big, (c) => c.notNull().defaultTo(0))
          .addColumn('read_seq', big, (c) => c.notNull().defaultTo(0))
          .addPrimaryKeyConstraint('members_pk', ['chat_id', 'user_id'])
          .execute();
        await db.schema.createIndex('members_user').on('members').columns(['user_id', 'chat_id']).execute();

        await idColumn(db, 'messages')
          .addColumn('chat_id', big, (c) => c.notNull().references('chats.id').onDelete('cascade'))
          .addColumn('sender_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('text', 'text', (c) => c.notNull())
          .addColumn('seq', big, (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('reply_to', big)
          .addColumn('client_msg_id', 'text')
          .addColumn('created_at', big, (c) => c.notNull())
          .addColumn('edited_at', big)
          .addColumn('deleted_at', big)
          .execute();
        await db.schema.createIndex('messages_chat_seq').on('messages').columns(['chat_id', 'seq']).unique().execute();
        await db.schema.createIndex('messages_chat_created').on('messages').columns(['chat_id', 'created_at']).execute();
        await db.schema
          .createIndex('messages_client_id')
          .on('messages')
          .columns(['chat_id', 'sender_id', 'client_msg_id'])
          .unique()
          .execute();
        // Keeps the planner honest on tiny tables in tests and fresh installs.
        if (flavor === 'postgres') await sql`ANALYZE`.execute(db);
      },
    },
    '0002_claims_hash': {
      // Claims are applied when the token's claims change, not whenever they differ from the
      // stored profile: a profile edited through an API keeps its edit until the IdP changes.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('users').addColumn('claims_hash', 'text').execute();
      },
    },
    '0003_message_search': {
      // Full-text search (docs/architecture.md "Search"): language-neutral on both engines —
      // words split at anything but a Unicode letter or digit, case-folded, no stemming, no stop
      // words, no accent folding — so Russian, English and any other script are found alike.
      // Each indexed document also carries its chat, so "matches AND is in one of my chats" is
      // answered inside the index: the cost follows the caller's matches, not everyone's.
      // Only live messages are indexed; triggers follow every insert, change of `text` or
      // `deleted_at`, and delete (a chat's cascade included), so erased text is never found.
      async up(db: Kysely<unknown>) {
        if (flavor === 'postgres') {
          // A side table, not a column of messages: `select *` of messages stays as it was.
          // No foreign key to messages: its check (a lookup and a row lock on messages per indexed
          // message) cost the send path more than the index itself; a delete trigger below
          // drops the entries of deleted messages (a chat's cascade included) instead.
          await sql`create table message_search (
            message_id bigint primary key,
            doc tsvector not null)`.execute(db);
          await sql.raw(`create function message_search_delete_rows() returns trigger language plpgsql as $$
            begin
              delete from message_search where message_id in (select id from deleted);
              return null;
            end $$`).execute(db);
          await sql`create trigger message_search_delete after delete on messages referencing old table as deleted for each statement execute function message_search_delete_rows()`.execute(db);
          await createPgSearchFunctions(db);
          await sql`create trigger message_search_insert after insert on messages referencing new table as inserted for each statement execute function message_search_insert_rows()`.execute(db);
          await sql`create trigger message_search_update after update of text, deleted_at on messages for each row execute function message_search_sync()`.execute(db);
          await sql.raw(`insert into message_search (message_id, doc) select id, ${pgSearchDocumentSql('text', 'chat_id', 'id')} from messages where deleted_at is null`).execute(db);
          await sql`create index message_search_doc on message_search using gin (doc)`.execute(db);
          return;
        }
        // External content (the text is not stored twice): `chat_id` is an indexed column too.
        await sql`create virtual table messages_fts using fts5(text, chat_id, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 0')`.execute(db);
        // External content needs a 'delete' with exactly the values indexed: only for live rows.
        await sql`create trigger messages_fts_insert after insert on messages when new.deleted_at is null begin
          insert into messages_fts(rowid, text, chat_id) values (new.id, new.text, new.chat_id);
        end`.execute(db);
        await sql`create trigger messages_fts_delete after delete on messages when old.deleted_at is null begin
          insert into messages_fts(messages_fts, rowid, text, chat_id) values ('delete', old.id, old.text, old.chat_id);
        end`.execute(db);
        // One trigger for both steps: the old entry must go before the new one is added.
        await sql`create trigger messages_fts_update after update of text, deleted_at on messages begin
          insert into messages_fts(messages_fts, rowid, text, chat_id) select 'delete', old.id, old.text, old.chat_id where old.deleted_at is null;
          insert into messages_fts(rowid, text, chat_id) select new.id, new.text, new.chat_id where new.deleted_at is null;
        end`.execute(db);
        await sql`insert into messages_fts(rowid, text, chat_id) select id, text, chat_id from messages where deleted_at is null`.execute(db);
      },
    },
    // 0004, not 0003: the search branch's `0003_message_search` runs first wherever both exist
    // (Kysely refuses a migration that sorts before one already applied).
    '0004_message_edits_change_cursor': {
      // Edits and deletes (issue 18): a per-chat change cursor, so a client that was away asks
      // for the changes after the last cursor it saw. The index is partial: plain sends (the
      // hot path) never enter it.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('chats').addColumn('last_change_seq', big, (c) => c.notNull().defaultTo(0)).execute();
        await db.schema.alterTable('messages').addColumn('change_seq', big, (c) => c.notNull().defaultTo(0)).execute();
        await db.schema
          .createIndex('messages_chat_change')
          .on('messages')
          .columns(['chat_id', 'change_seq'])
          .where(sql.ref('change_seq'), '>', 0)
          .execute();
      },
    },
    '0005_message_search_ranges_and_pairs': {
      // Search documents gain adjacent word pairs (word-pairs.ts: a quoted phrase of common words
      // becomes one small posting list) and, on PostgreSQL, `@<id bucket>` lexemes (sql-search.ts,
      // ID_BUCKET_BITS: GIN is asked for the newest id ranges first). Every document is rebuilt.
      async up(db: Kysely<unknown>) {
        if (flavor === 'postgres') {
          await createPgSearchFunctions(db);
          // One index build after the rewrite is far cheaper than a GIN update per row.
          await sql`drop index message_search_doc`.execute(db);
          await sql.raw(`update message_search s set doc = ${pgSearchDocumentSql('m.text', 'm.chat_id', 'm.id')} from messages m where m.id = s.message_id`).execute(db);
          await sql.raw(PG_SEARCH_INDEX_SQL).execute(db);
          return;
        }
        // FTS5 tables take no new column: a new table. `pairs` is no column of messages, so this
        // external-content table is never 'rebuild'-ed from it: the triggers feed it, through
        // the function the store registers on its connection (register-search-functions.ts).
        for (const trigger of ['messages_fts_insert', 'messages_fts_delete', 'messages_fts_update']) await sql.raw(`drop trigger ${trigger}`).execute(db);
        await sql`drop table messages_fts`.execute(db);
        await sql`create virtual table messages_fts using fts5(text, chat_id, pairs, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 0')`.execute(db);
        const pairs = (text: string): string => `${PAIR_TOKENS_FUNCTION}(${text})`;
        // External content needs a 'delete' with exactly the values indexed: only for live rows.
        await sql.raw(`create trigger messages_fts_insert after insert on messages when new.deleted_at is null begin
          insert into messages_fts(rowid, text, chat_id, pairs) values (new.id, new.text, new.chat_id, ${pairs('new.text')});
        end`).execute(db);
        await sql.raw(`create trigger messages_fts_delete after delete on messages when old.deleted_at is null begin
          insert into messages_fts(messages_fts, rowid, text, chat_id, pairs) values ('delete', old.id, old.text, old.chat_id, ${pairs('old.text')});
        end`).execute(db);
        // One trigger for both steps: the old entry must go before the new one is added.
        await sql.raw(`create trigger messages_fts_update after update of text, deleted_at on messages begin
          insert into messages_fts(messages_fts, rowid, text, chat_id, pairs) select 'delete', old.id, old.text, old.chat_id, ${pairs('old.text')} where old.deleted_at is null;
          insert into messages_fts(rowid, text, chat_id, pairs) select new.id, new.text, new.chat_id, ${pairs('new.text')} where new.deleted_at is null;
        end`).execute(db);
        await sql.raw(`insert into messages_fts(rowid, text, chat_id, pairs) select id, text, chat_id, ${pairs('text')} from messages where deleted_at is null`).execute(db);
      },
    },
  };
}
