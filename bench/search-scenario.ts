/**
 * `npm run bench -- --scenario search` — message search over a large stored history (issue 18).
 *
 * Fills the database directly (not through the API: a million sends would measure the send
 * path for an hour) and then asks `GET /api/v1/chat/search` of the real server, one request at
 * a time, and prints p50/p99 per query and over all of them.
 * - SQLite (no DATABASE_URL): a fresh DATA_DIR, filled before the server starts, removed after.
 * - PostgreSQL (DATABASE_URL): a database of its own next to the bench database
 *   (`<name>_search`), filled once and kept while the corpus it holds stays the same, so the
 *   lead's bench database never carries a million extra rows.
 * The corpus: `messages` texts of 4–14 words drawn Zipf-like (s = 1) from 4000 synthetic words,
 * every other word Cyrillic; chats of 10 senders; the searching user is a member of 1 chat in 20.
 */
import { rmSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openPostgresStore } from '../src/storage/postgres/open-postgres-store.js';
import { PG_SEARCH_INDEX_SQL, pgSearchDocumentSql } from '../src/storage/sql/sql-search.js';
import { openSqliteStore } from '../src/storage/sqlite/open-sqlite-store.js';
import { registerSearchFunctions } from '../src/storage/sqlite/register-search-functions.js';
import { seededRandom } from './delivery-tracker.js';
import { Provisioner } from './provision.js';
import { startPolychat } from './server-process.js';

export interface SearchBenchOptions {
  readonly quick: boolean;
  readonly log: (line: string) => void;
}

export interface Corpus {
  readonly messages: number;
  readonly chats: number;
  readonly users: number;
  /** The searcher is in every `memberEvery`-th chat. */
  readonly memberEvery: number;
}

const SEARCHER = 'search-me';
const VOCABULARY = 4000;
const LATIN = ['ka', 'lo', 'mi', 'ne', 'ru', 'so', 'ta', 'vi', 'de', 'po', 'ba', 'gu', 'fe', 'zo', 'xi', 'ha'];
const CYRILLIC = ['ка', 'ло', 'ми', 'не', 'ру', 'со', 'та', 'ви', 'де', 'по', 'ба', 'гу', 'фе', 'зо', 'жи', 'ха'];
const T0 = 1_700_000_000_000;

/** Word of Zipf rank `r` (1-based): distinct syllable strings, Latin for even ranks, Cyrillic for odd. */
function word(rank: number): string {
  const syllables = rank % 2 === 0 ? LATIN : CYRILLIC;
  let n = rank + 16;
  let out = '';
  while (n > 0) {
    out = syllables[n % 16]! + out;
    n = Math.floor(n / 16);
  }
  return out;
}

function zipfSampler(random: () => number): () => number {
  const cumulative = new Float64Array(VOCABULARY);
  let sum = 0;
  for (let r = 1; r <= VOCABULARY; r++) cumulative[r - 1] = sum += 1 / r;
  return () => {
    const x = random() * sum;
    let lo = 0;
    let hi = VOCABULARY - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

interface Row {
  chat: number;
  sender: string;
  text: string;
  seq: number;
  createdAt: number;
}

const chatMember = (chat: number, k: number, users: number): string => `search-u${(chat * 7 + k) % users}`;

/**
 * The corpus, generated deterministically in batches; `visible` collects the word ranks of the
 * messages the searcher can see, so each query's true match count can be printed.
 */
function* corpusRows(corpus: Corpus, visible: number[][], batch: number): Generator<Row[]> {
  const random = seededRandom(18);
  const rank = zipfSampler(random);
  const seqs = new Int32Array(corpus.chats);
  let rows: Row[] = [];
  for (let i = 0; i < corpus.messages; i++) {
    const chat = i % corpus.chats;
    const length = 4 + Math.floor(random() * 11);
    const ranks: number[] = [];
    for (let w = 0; w < length; w++) ranks.push(rank());
    const words = ranks.map(word);
    if (random() < 0.3) words[0] = words[0]!.charAt(0).toUpperCase() + words[0]!.slice(1);
    if (chat % corpus.memberEvery === 0) visible.push(ranks);
    rows.push({ chat, sender: chatMember(chat, Math.floor(random() * 10), corpus.users), text: `${words.join(' ')}${random() < 0.5 ? '.' : ''}`, seq: ++seqs[chat]!, createdAt: T0 + i * 100 });
    if (rows.length === batch) {
      yield rows;
      rows = [];
    }
  }
  if (rows.length > 0) yield rows;
}

function members(corpus: Corpus): { chat: number; user: string }[] {
  const out: { chat: number; user: string }[] = [];
  for (let chat = 0; chat < corpus.chats; chat++) {
    const seen = new Set<string>();
    for (let k = 0; k < 10; k++) seen.add(chatMember(chat, k, corpus.users));
    if (chat % corpus.memberEvery === 0) seen.add(SEARCHER);
    for (const user of seen) out.push({ chat, user });
  }
  return out;
}

const userIds = (corpus: Corpus): string[] => [SEARCHER, ...Array.from({ length: corpus.users }, (_, i) => `search-u${i}`)];

export async function fillSqlite(file: string, corpus: Corpus, visible: number[][]): Promise<void> {
  await (await openSqliteStore(file)).close(); // the schema, by the server's own migrations
  const db = new Database(file);
  registerSearchFunctions(db); // the FTS5 triggers call it
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const user = db.prepare('insert into users (id, username, created_at) values (?, ?, ?)');
  const chat = db.prepare("insert into chats (id, type, name, created_at, updated_at, last_seq) values (?, 'group', ?, ?, ?, 0)");
  const member = db.prepare("insert into members (chat_id, user_id, role, joined_at) values (?, ?, 'member', ?)");
  const message = db.prepare("insert into messages (chat_id, sender_id, text, seq, kind, created_at) values (?, ?, ?, ?, 'TEXT', ?)");
  db.transaction(() => {
    for (const id of userIds(corpus)) user.run(id, id, T0);
    for (let c = 0; c < corpus.chats; c++) chat.run(c + 1, `search ${c}`, T0, T0);
    for (const m of members(corpus)) member.run(m.chat + 1, m.user, T0);
  })();
  const insert = db.transaction((rows: Row[]) => {
    for (const r of rows) message.run(r.chat + 1, r.sender, r.text, r.seq, r.createdAt);
  });
  for (const rows of corpusRows(corpus, visible, 50_000)) insert(rows);
  db.exec('update chats set last_seq = (select max(seq) from messages where chat_id = chats.id)');
  db.exec("insert into messages_fts(messages_fts) values ('optimize')");
  db.exec('analyze');
  db.close();
}

/** `<database>_search`, created (or re-created for a different corpus) next to DATABASE_URL's. */
export async function fillPostgres(baseUrl: string, corpus: Corpus, visible: number[][], log: (line: string) => void): Promise<string> {
  const url = new URL(baseUrl);
  const name = `${url.pathname.slice(1) || 'postgres'}_search`;
  url.pathname = `/${name}`;
  const signature = JSON.stringify({ corpus, version: 3 }); // 2: id buckets; 3: word pairs
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    const exists = (await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
    if (exists) {
      const probe = new pg.Client({ connectionString: url.toString() });
      await probe.connect();
      const marker = await probe.query("select value from settings where key = 'bench.search.corpus'").catch(() => ({ rows: [] as { value: string }[] }));
      await probe.end();
      if (marker.rows[0]?.value === signature) {
        // Still generate the corpus: the match counts come from it.
        for (const _ of corpusRows(corpus, visible, 50_000));
        log(`search: reusing ${name} (same corpus)`);
        return url.toString();
      }
      await admin.query(`drop database ${name} with (force)`);
    }
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  await (await openPostgresStore(url.toString())).close();
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  try {
    // Filling the search table and building its GIN index once after the load is far quicker
    // than the per-row trigger and index maintenance (the same expression, from the store).
    await db.query('drop index message_search_doc');
    await db.query('alter table messages disable trigger message_search_insert');
    const ids = userIds(corpus);
    await db.query('insert into users (id, username, created_at) select u, u, $2 from unnest($1::text[]) u', [ids, T0]);
    await db.query("insert into chats (id, type, name, created_at, updated_at, last_seq) select g, 'group', 'search ' || g, $2, $2, 0 from generate_series(1, $1::int) g", [corpus.chats, T0]);
    const m = members(corpus);
    await db.query("insert into members (chat_id, user_id, role, joined_at) select * , 'member', $3 from unnest($1::bigint[], $2::text[])", [m.map((x) => x.chat + 1), m.map((x) => x.user), T0]);
    let done = 0;
    for (const rows of corpusRows(corpus, visible, 20_000)) {
      await db.query("insert into messages (chat_id, sender_id, text, seq, kind, created_at) select c, s, t, q, 'TEXT', a from unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) as x(c, s, t, q, a)", [
        rows.map((r) => r.chat + 1),
        rows.map((r) => r.sender),
        rows.map((r) => r.text),
        rows.map((r) => r.seq),
        rows.map((r) => r.createdAt),
      ]);
      done += rows.length;
      if (done % 200_000 === 0) log(`search: ${done} messages stored`);
    }
    await db.query('update chats set last_seq = x.m from (select chat_id, max(seq) m from messages group by chat_id) x where chats.id = x.chat_id');
    await db.query(`select setval(pg_get_serial_sequence('chats', 'id'), $1)`, [corpus.chats]);
    await db.query("set maintenance_work_mem = '256MB'");
    await db.query('alter table messages enable trigger message_search_insert');
    await db.query(`insert into message_search (message_id, doc) select id, ${pgSearchDocumentSql('text', 'chat_id', 'id')} from messages`);
    await db.query(PG_SEARCH_INDEX_SQL);
    await db.query('vacuum analyze');
    await db.query("insert into settings (key, value) values ('bench.search.corpus', $1)", [signature]);
  } finally {
    await db.end();
  }
  return url.toString();
}

interface Query {
  readonly label: string;
  readonly q: string;
  /** Visible messages that match (all words present; phrases checked as words). */
  readonly matches: number;
}

export function queries(visible: readonly number[][]): Query[] {
  const count = (need: readonly number[]): number => visible.filter((ranks) => need.every((r) => ranks.includes(r))).length;
  // Even ranks are Latin, odd ones Cyrillic: 3, 301 and 2999 are the Russian-looking words.
  const single = [3, 10, 30, 100, 300, 301, 1000, 2999, 3000].map((r) => ({ label: `word of rank ${r} (${r % 2 === 0 ? 'Latin' : 'Cyrillic'})`, q: word(r), matches: count([r]) }));
  const capital = { label: 'rank 10, capitalized', q: word(10).toUpperCase(), matches: count([10]) };
  const pairs = [
    [10, 50],
    [5, 200],
    [40, 41],
  ].map(([a, b]) => ({ label: `two words (ranks ${a}, ${b})`, q: `${word(a!)} ${word(b!)}`, matches: count([a!, b!]) }));
  // A phrase taken from a visible message: at least one hit.
  const sample = visible[Math.floor(visible.length / 2)]!;
  const phrase = { label: 'quoted phrase of 2', q: `"${word(sample[0]!)} ${word(sample[1]!)}"`, matches: Number.NaN };
  const either = { label: 'a or b (ranks 100, 101)', q: `${word(100)} or ${word(101)}`, matches: visible.filter((ranks) => ranks.includes(100) || ranks.includes(101)).length };
  const none = { label: 'no such word', q: 'zzzqqq', matches: 0 };
  return [...single, capital, ...pairs, phrase, either, none];
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

/** Runs the scenario and prints its table and JSON line; false when it could not run. */
export async function runSearchBench(options: SearchBenchOptions): Promise<boolean> {
  const { log } = options;
  const corpus: Corpus = options.quick ? { messages: 50_000, chats: 100, users: 500, memberEvery: 20 } : { messages: 1_000_000, chats: 2000, users: 5000, memberEvery: 20 };
  const databaseUrl = process.env['DATABASE_URL'];
  const visible: number[][] = [];
  let dataDir: string | null = null;
  const started = Date.now();
  const env: Record<string, string> = {};
  if (databaseUrl) {
    env['DATABASE_URL'] = await fillPostgres(databaseUrl, corpus, visible, log);
  } else {
    dataDir = mkdtempSync(join(tmpdir(), 'polychat-search-'));
    await fillSqlite(join(dataDir, 'chat.db'), corpus, visible);
    env['DATA_DIR'] = dataDir;
  }
  log(`search: ${corpus.messages} messages in ${corpus.chats} chats ready in ${((Date.now() - started) / 1000).toFixed(0)} s; the searcher sees ${visible.length}`);
  const server = await startPolychat({ env });
  try {
    const token = await new Provisioner(server.url, server.jwtSecret).token(SEARCHER);
    const list = queries(visible);
    const ask = async (q: string): Promise<{ ms: number; found: number }> => {
      const t0 = performance.now();
      const res = await fetch(`${server.url}/api/v1/chat/search?q=${encodeURIComponent(q)}&limit=50`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { messages?: unknown[] };
      const ms = performance.now() - t0;
      if (res.status !== 200 || !Array.isArray(body.messages)) throw new Error(`search ${q}: ${res.status} ${JSON.stringify(body)}`);
      return { ms, found: body.messages.length };
    };
    for (const { q } of list) await ask(q); // warm-up: caches, statement cache, planner
    const rounds = options.quick ? 5 : 30;
    const perQuery = new Map<string, number[]>(list.map((x) => [x.label, []]));
    const found = new Map<string, number>();
    const all: number[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const x of list) {
        const { ms, found: n } = await ask(x.q);
        perQuery.get(x.label)!.push(ms);
        found.set(x.label, n);
        all.push(ms);
      }
    }
    all.sort((a, b) => a - b);
    const storage = databaseUrl ? 'postgresql' : 'sqlite';
    const lines = [`search over ${corpus.messages} messages (${storage}; the searcher is in ${corpus.chats / corpus.memberEvery} chats, ${visible.length} messages), GET /api/v1/chat/search limit=50, one request at a time`, ''];
    lines.push('| query | matches (caller’s chats) | returned | p50 ms | p99 ms |', '|---|---:|---:|---:|---:|');
    for (const x of list) {
      const times = [...perQuery.get(x.label)!].sort((a, b) => a - b);
      lines.push(`| ${x.label} | ${Number.isNaN(x.matches) ? '≥ 1' : x.matches} | ${found.get(x.label)} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 99).toFixed(1)} |`);
    }
    const p50 = percentile(all, 50);
    const p99 = percentile(all, 99);
    lines.push(`| **all ${all.length} requests** | | | **${p50.toFixed(1)}** | **${p99.toFixed(1)}** |`);
    process.stdout.write(`\n${lines.join('\n')}\n\n`);
    const load = loadavg()[0] ?? 0;
    process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), scenario: 'search', storage, messages: corpus.messages, visible: visible.length, requests: all.length, p50Ms: Number(p50.toFixed(2)), p99Ms: Number(p99.toFixed(2)), goalP99Ms: 50, goalMet: p99 <= 50, loadAvg1m: load, ok: true })}\n`);
    // Like the other scenarios: false only when it could not run, not when the goal is missed.
    return true;
  } finally {
    await server.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}
