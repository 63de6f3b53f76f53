import { badRequest } from '../domain/errors.js';

export interface Page {
  readonly limit: number;
  readonly offset: number;
}

function nonNegativeInt(raw: unknown, name: string): number | undefined {
  // Only an absent value means the default: an empty `limit=` is a malformed number, not a request for the default page.
  if (raw === undefined || raw === null) return undefined;
  const text = typeof raw === 'number' ? String(raw) : raw;
  if (typeof text !== 'string' || !/^\d{1,15}$/.test(text)) throw badRequest(`${name} must be a non-negative integer`);
  return Number(text);
}

/**
 * `limit`/`offset` as SPEC reads them (strings from a query or numbers from a frame):
 * non-negative integers, limit capped at `max`. Anything else is a 400.
 */
export function parsePage(rawLimit: unknown, rawOffset: unknown, defaults: { limit: number; max: number }): Page {
  const limit = nonNegativeInt(rawLimit, 'limit') ?? defaults.limit;
  const offset = nonNegativeInt(rawOffset, 'offset') ?? 0;
  return { limit: Math.min(limit, defaults.max), offset };
}

/** Like `parsePage`, but a missing limit means "all" (the `rooms` chat list). */
export function parseOptionalPage(rawLimit: unknown, rawOffset: unknown, max: number): { limit: number | null; offset: number } {
  const limit = nonNegativeInt(rawLimit, 'limit');
  const offset = nonNegativeInt(rawOffset, 'offset') ?? 0;
  return { limit: limit === undefined ? null : Math.min(limit, max), offset };
}

/** A chat or message id from a path or a payload: a positive integer, else a 400. */
export function parseId(raw: unknown, name = 'id'): number {
  const text = typeof raw === 'number' ? String(raw) : raw;
  if (typeof text !== 'string' || !/^[1-9]\d{0,14}$/.test(text)) throw badRequest(`${name} must be a positive integer`);
  return Number(text);
}

/** A user id from a path or payload: a non-empty string (ids are opaque), numbers accepted. */
export function parseUserId(raw: unknown, name = 'user id'): string {
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw > 0) return String(raw);
  if (typeof raw !== 'string' || raw === '' || raw.length > 200) throw badRequest(`${name} must be a non-empty string`);
  // U+0000 cannot be stored or looked up in PostgreSQL: no id holds it.
  if (raw.includes('\u0000')) throw badRequest(`${name} is not valid`);
  return raw;
}

/** A change cursor (`after`): a non-negative integer, 0 when absent; anything else is a 400. */
export function parseCursor(raw: unknown, name = 'after'): number {
  return nonNegativeInt(raw, name) ?? 0;
}

/** Changes pages are 100 long unless asked otherwise (the core caps them at the page size). */
export const CHANGES_PAGE = 100;

/** A changes catch-up request off the wire: the cursor (default 0) and the page length. */
export function parseChangesRequest(rawAfter: unknown, rawLimit: unknown, defaultLimit = CHANGES_PAGE): { after: number; limit: number } {
  return { after: parseCursor(rawAfter), limit: nonNegativeInt(rawLimit, 'limit') ?? defaultLimit };
}
