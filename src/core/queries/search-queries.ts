import { badRequest } from '../../domain/errors.js';
import type { Message } from '../../domain/message.js';
import { parseSearchExpression } from '../../domain/search-expression.js';
import type { CoreContext } from '../core-context.js';
import { codePointLength, hasNul } from '../text-rules.js';

/** Longest search text, in Unicode code points (SPEC, issue 18). */
export const MAX_SEARCH_LENGTH = 200;

/** How `q` reads, for route documentation (every dialect reads it the same way). */
export const SEARCH_SYNTAX =
  'Text to search for, 1–200 characters. Words are all required, case-insensitive, in any language; "quoted words" must be adjacent; -word excludes; `or` between words is an alternative.';

export interface SearchRequest {
  /** The text as the dialect received it: checked here, so every dialect refuses alike. */
  readonly q: unknown;
  readonly limit: number;
  readonly offset: number;
}

/** `q` must be a non-blank string of at most MAX_SEARCH_LENGTH code points; anything else is a 400. */
export function checkSearchText(q: unknown): string {
  if (typeof q !== 'string' || q.trim() === '') throw badRequest('q is required: the text to search for');
  if (q.length > MAX_SEARCH_LENGTH && codePointLength(q) > MAX_SEARCH_LENGTH) throw badRequest(`q exceeds ${MAX_SEARCH_LENGTH} characters`);
  if (hasNul(q)) throw badRequest('q must not contain NUL characters');
  return q;
}

/**
 * Messages matching `q` in the chats the caller is a member of now, best match first, then
 * newest; deleted messages never match. A text with no searchable word (only punctuation, or
 * only exclusions) finds nothing rather than everything. Results are not delivery receipts:
 * a search hit is not the message shown in its chat.
 */
export async function searchMessages(ctx: CoreContext, actorId: string, request: SearchRequest): Promise<Message[]> {
  const q = checkSearchText(request.q);
  const limit = Math.min(request.limit, ctx.settings.maxPageSize);
  const expression = parseSearchExpression(q);
  if (!expression || limit === 0) return [];
  return ctx.store.searchMessages({ memberId: actorId, expression, limit, offset: request.offset });
}
