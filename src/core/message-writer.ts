import type { AppendResult, NewMessage, Store } from '../ports/store.js';

interface Pending<M> {
  readonly row: NewMessage;
  readonly meta: M;
  resolve(result: AppendResult): void;
  reject(err: unknown): void;
}

const MAX_BATCH = 256;

/**
 * Group commit: sends accepted in the same event-loop turn, and those that arrive while a
 * transaction is in flight, are stored together in one transaction. One writer per process,
 * one transaction at a time, so each chat's seqs are committed — and announced through
 * `afterCommit`, synchronously and in order — exactly in the order the sends were accepted.
 * The first write of a burst waits one `setImmediate` (the rest of the turn's I/O), nothing more:
 * with a synchronous driver (SQLite) a transaction would otherwise finish before the next
 * frame is even read, and every message would pay its own commit.
 */
export class MessageWriter<M> {
  private queue: Pending<M>[] = [];
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly afterCommit: (results: readonly { result: AppendResult; meta: M }[]) => void,
  ) {}

  append(row: NewMessage, meta: M): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, meta, resolve, reject });
      if (!this.running) this.running = this.drain();
    });
  }

  /** Resolves once everything accepted so far is committed (graceful shutdown). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        let results: AppendResult[];
        try {
          results = await this.store.appendMessages(
            batch.map((p) => p.row),
            this.now(),
          );
        } catch (err) {
          for (const p of batch) p.reject(err);
          continue;
        }
        try {
          this.afterCommit(batch.map((p, i) => ({ result: results[i] as AppendResult, meta: p.meta })));
        } catch {
          // Announcing is best effort: the messages are stored and clients catch up by seq.
        }
        batch.forEach((p, i) => p.resolve(results[i] as AppendResult));
      }
    } finally {
      this.running = null;
    }
  }
}
