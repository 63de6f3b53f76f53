import type { RateLimiter } from '../ports/rate-limiter.js';

/**
 * A sliding-window log per key, in this process only: at most `limit` hits in any span of
 * `windowMs`, with no burst across a window boundary. Memory per key is bounded by `limit`;
 * idle keys are swept as other keys are hit.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly hits = new Map<string, number[]>();
  private lastSweep = 0;

  async hit(key: string, limit: number, windowMs: number, now: number): Promise<boolean> {
    this.sweep(windowMs, now);
    let log = this.hits.get(key);
    if (!log) {
      log = [];
      this.hits.set(key, log);
    }
    const cutoff = now - windowMs;
    let drop = 0;
    while (drop < log.length && (log[drop] ?? 0) <= cutoff) drop++;
    if (drop > 0) log.splice(0, drop);
    if (log.length >= limit) return false;
    log.push(now);
    return true;
  }

  private sweep(windowMs: number, now: number): void {
    if (now - this.lastSweep < windowMs) return;
    this.lastSweep = now;
    for (const [key, log] of this.hits) if ((log[log.length - 1] ?? 0) <= now - windowMs) this.hits.delete(key);
  }
}
