import { wordsIn, type Phrase } from '../../domain/search-expression.js';

/**
 * Adjacent word pairs, indexed beside the words so that a quoted phrase of common words is one
 * small posting list instead of a walk over the positions of every message holding them all
 * (docs/architecture.md "Search"). The pairs only narrow: the phrase itself is still checked,
 * so a pair can never make a message match that the phrase does not.
 */

/**
 * SQLite: joins a pair into one FTS5 token. A private-use character: unicode61 keeps it inside a
 * token (category Co), and no parsed word holds one. FTS5 folds the case of the whole token.
 */
const JOINER = '\uE000';

/** The SQL function giving a text's pairs: SQLite's (JS) registered per connection, PostgreSQL's (PL/pgSQL) created by the migrations. */
export const PAIR_TOKENS_FUNCTION = 'polychat_word_pairs';

/** PostgreSQL refuses a lexeme over 2047 bytes: longer pairs are neither indexed nor asked for. */
export const MAX_PAIR_BYTES = 2000;

const fits = (a: string, b: string): boolean => Buffer.byteLength(a) + Buffer.byteLength(b) + 1 < MAX_PAIR_BYTES;

/** SQLite's `pairs` column for a text: its pair tokens, space-separated. */
export function sqlitePairTokens(text: string): string {
  const words = wordsIn(text);
  const pairs: string[] = [];
  for (let i = 0; i + 1 < words.length; i++) if (fits(words[i]!, words[i + 1]!)) pairs.push(`${words[i]}${JOINER}${words[i + 1]}`);
  return pairs.join(' ');
}

/** The adjacent pairs of a phrase's words (none for a single word), longer ones left out. */
export function phrasePairs(phrase: Phrase): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < phrase.length; i++) if (fits(phrase[i]!, phrase[i + 1]!)) pairs.push([phrase[i]!, phrase[i + 1]!]);
  return pairs;
}

/** A pair as an FTS5 phrase literal for the `pairs` column (words hold only letters and digits: nothing to escape). */
export const fts5PairToken = ([a, b]: readonly [string, string]): string => `"${a}${JOINER}${b}"`;
