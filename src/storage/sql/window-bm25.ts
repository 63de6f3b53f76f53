import { wordsIn, type SearchExpression } from '../../domain/search-expression.js';

const K1 = 1.2;
const B = 0.75;

/**
 * BM25 relevance of each text for the expression's words, with the statistics (how many texts
 * hold a word, the average length) taken from the texts themselves: the ranked window of newest
 * matches, not the whole index. FTS5's own `bm25()` must first count every indexed message that
 * holds each phrase of the MATCH, the caller's ~100 chat tokens included: 17–50 ms per query for
 * common words on 1 000 000 messages, three times the cost of finding the matches (see
 * docs/benchmarks.md, "Search"). Within the window every text matches, so the words every text
 * holds weigh alike and the rarer alternatives of an `or` weigh more, as BM25 intends.
 * Words are split as the parser splits them and case-folded (the text not NFC-normalized:
 * FTS5 matched it as stored); a phrase counts as its words.
 */
export function windowBm25(texts: readonly string[], expression: SearchExpression): number[] {
  const terms = [...new Set(expression.anyOf.flatMap((c) => c.all.flat()).map((w) => w.toLowerCase()))];
  const counts = texts.map((text) => {
    const tf = new Map<string, number>(terms.map((t) => [t, 0]));
    const words = wordsIn(text.toLowerCase());
    for (const word of words) {
      const n = tf.get(word);
      if (n !== undefined) tf.set(word, n + 1);
    }
    const length = words.length;
    return { length, tf };
  });
  const total = counts.length;
  const averageLength = counts.reduce((sum, c) => sum + c.length, 0) / Math.max(1, total) || 1;
  const idf = new Map(
    terms.map((t) => {
      const holding = counts.filter((c) => c.tf.get(t)! > 0).length;
      return [t, Math.log(1 + (total - holding + 0.5) / (holding + 0.5))];
    }),
  );
  return counts.map(({ length, tf }) => {
    let score = 0;
    for (const t of terms) {
      const f = tf.get(t)!;
      if (f > 0) score += (idf.get(t)! * f * (K1 + 1)) / (f + K1 * (1 - B + (B * length) / averageLength));
    }
    return score;
  });
}
