/** What separates words for the parser (domain/search-expression.ts): anything but a letter or digit. */
const SEPARATORS = /[^\p{L}\p{N}]+/u;

/** A stored text's words as the parser splits them (case kept; not NFC-normalized: the index sees the text as stored). */
export function textWords(text: string): string[] {
  return text.split(SEPARATORS).filter((w) => w !== '');
}
