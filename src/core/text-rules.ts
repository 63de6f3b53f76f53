import { badRequest } from '../domain/errors.js';

/** Length in Unicode code points, as SPEC counts it (an emoji is one, not two). */
export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * Text is stored as sent (not trimmed); empty or whitespace-only text is refused, and so is
 * text longer than the limit. `reason` lets dialects word the error as their seed does.
 */
export function checkMessageText(text: unknown, maxLength: number): string {
  if (typeof text !== 'string') throw badRequest('Message text must be a string', 'not_string');
  if (text.trim() === '') throw badRequest('Message text cannot be empty', 'empty');
  // PostgreSQL cannot store U+0000 (and a failed row would fail its whole group-commit batch).
  if (hasNul(text)) throw badRequest('Message text must not contain NUL characters', 'nul');
  if (text.length > maxLength && codePointLength(text) > maxLength) {
    throw badRequest(`Message text exceeds ${maxLength} characters`, 'too_long');
  }
  return text;
}

/** U+0000 cannot be stored in PostgreSQL text: such input is refused on every backend alike. */
export function hasNul(text: string): boolean {
  return text.includes('\u0000');
}
