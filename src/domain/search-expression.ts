/**
 * A search query in web-search syntax, as both storages evaluate it alike: words are ANDed,
 * `"quoted words"` are a phrase (adjacent, in order), `-word` / `-"a phrase"` excludes, and
 * `or` between terms is an alternative (AND binds tighter: `a b or c` is `(a AND b) OR c`).
 * Case is ignored by the storage's tokenizer, not here.
 */
export interface SearchExpression {
  /** At least one clause; a message matches when any clause does. */
  readonly anyOf: readonly SearchClause[];
}

export interface SearchClause {
  /** Every phrase must occur; never empty (a clause of exclusions alone would match nearly everything). */
  readonly all: readonly Phrase[];
  /** No phrase may occur. */
  readonly none: readonly Phrase[];
}

/** One or more words, adjacent and in order. Words hold only letters and digits. */
export type Phrase = readonly string[];

/** Letters and digits: what both storages keep inside a word (anything else separates words). */
const WORD = /[\p{L}\p{N}]+/gu;

/**
 * A stored text's words, split as a query is: what the storages' word-pair index and ranking
 * read. Not NFC-normalized, as the indexes see the text as stored.
 */
export const wordsIn = (text: string): string[] => text.match(WORD) ?? [];

const wordsOf = (text: string): string[] => wordsIn(text.normalize('NFC'));

/**
 * Parses free text the way PostgreSQL's `websearch_to_tsquery` reads it. Never throws: any text
 * is a valid query (punctuation separates words, an unclosed quote runs to the end). Returns
 * `undefined` when nothing searchable is left (no word outside an exclusion).
 */
export function parseSearchExpression(text: string): SearchExpression | undefined {
  const clauses: SearchClause[] = [];
  let all: Phrase[] = [];
  let none: Phrase[] = [];
  const endClause = (): void => {
    if (all.length > 0) clauses.push({ all, none });
    all = [];
    none = [];
  };
  // A term: an optional '-' (only at the start of a term), then a quoted phrase or a bare run.
  const TERM = /(-?)(?:"([^"]*)"?|([^\s"]+))/gu;
  let pendingOr = false;
  for (const match of text.matchAll(TERM)) {
    const negated = match[1] === '-';
    const quoted = match[2];
    const bare = match[3];
    if (quoted === undefined && !negated && bare !== undefined && bare.toLowerCase() === 'or') {
      // `or` between two terms; a leading, trailing or doubled `or` is an ordinary AND boundary.
      pendingOr = all.length > 0;
      continue;
    }
    if (pendingOr) {
      endClause();
      pendingOr = false;
    }
    if (quoted !== undefined) {
      const words = wordsOf(quoted);
      if (words.length > 0) (negated ? none : all).push(words);
    } else {
      // Punctuation inside a bare run separates words: each is its own ANDed term.
      for (const word of wordsOf(bare ?? '')) (negated ? none : all).push([word]);
    }
  }
  endClause();
  return clauses.length > 0 ? { anyOf: clauses } : undefined;
}
