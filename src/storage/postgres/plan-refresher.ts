import type pg from 'pg';
import type { Logger } from '../../ports/logger.js';

/** Rows appended by this process at which the hot tables are analyzed (×4 apart, then autovacuum's job). */
const THRESHOLDS = [1_000, 4_000, 16_000, 64_000, 256_000, 1_024_000];

/**
 * Keeps the cached plans of the hot statements honest while the tables are young.
 *
 * PostgreSQL fixes a named statement's generic plan at its sixth execution, from the statistics
 * of that moment, and re-plans only when they change. A fresh install analyzed its tables while
 * they were empty, and autovacuum's next ANALYZE comes a minute or more later: until then the
 * append statement keeps a plan made for an empty `messages` — a hash join over a full scan to
 * look up client ids — and its cost grows with every row stored (measured: backend CPU per
 * message ×3.5 after 20 000 messages; flat with fresh statistics). Analyzing the hot tables as
 * this process's appends pass each threshold re-plans those statements (an ANALYZE samples, so
 * it stays cheap on large tables); from the last threshold on, autovacuum keeps up by itself.
 * The append statement now probes `messages` by index whatever the statistics say
 * (postgres-hot-path.ts); a plan made for an empty table still scans it per probe, and the
 * chats and members lookups follow their statistics — the first thresholds still matter.
 */
export class PlanRefresher {
  private appended = 0;
  private next = 0;
  private running = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
  ) {}

  noteAppended(rows: number): void {
    this.appended += rows;
    const threshold = THRESHOLDS[this.next];
    if (threshold === undefined || this.appended < threshold || this.running) return;
    while (this.next < THRESHOLDS.length && this.appended >= THRESHOLDS[this.next]!) this.next++;
    this.running = true;
    this.pool
      .query('analyze messages, chats, members')
      .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'analyze of the hot tables failed; autovacuum will do it later'))
      .finally(() => {
        this.running = false;
      });
  }
}
