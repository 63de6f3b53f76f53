/**
 * Counts hits per key. Guarantee: at most `limit` hits are allowed per key within any span of
 * `windowMs` (a sliding window), across all instances that share the limiter. A refused hit
 * is not counted.
 */
export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number, now: number): Promise<boolean>;
}
