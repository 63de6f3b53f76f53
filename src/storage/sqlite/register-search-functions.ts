import type Database from 'better-sqlite3';
import { PAIR_TOKENS_FUNCTION, sqlitePairTokens } from '../sql/word-pairs.js';

/**
 * Functions the search triggers call (migration 0005): every connection that writes messages
 * must have them, so the store registers them before it migrates. A tool that writes messages
 * without them (the sqlite3 shell) gets "no such function" instead of an index out of step.
 */
export function registerSearchFunctions(database: Database.Database): void {
  database.function(PAIR_TOKENS_FUNCTION, { deterministic: true }, (text: unknown) => (typeof text === 'string' ? sqlitePairTokens(text) : ''));
}
