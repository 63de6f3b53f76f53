import { ChatError } from '../domain/errors.js';

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
 * text longer than the limit. Each refusal has its own registered reason, so dialects can word
 * it as their seed does.
 */
export function checkMessageText(text: unknown, maxLength: number): string {
  if (typeof text !== 'string') throw new ChatError('text_not_string');
  if (text.trim() === '') throw new ChatError('text_empty');
  // PostgreSQL cannot store U+0000 (and a failed row would fail its whole group-commit batch).
  if (hasNul(text)) throw new ChatError('text_nul');
  if (text.length > maxLength && codePointLength(text) > maxLength) {
    throw new ChatError('text_too_long', `Message text exceeds ${maxLength} characters`);
  }
  return text;
}

/** U+0000 cannot be stored in PostgreSQL text: such input is refused on every backend alike. */
export function hasNul(text: string): boolean {
  return text.includes('\u0000');
}
