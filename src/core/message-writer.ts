import type { AppendResult, NewMessage, Store } from '../ports/store.js';

interface Pending<M> {
  readonly row: NewMessage;
  readonly meta: M;
  resolve(result: AppendResult): void;
  reject(err: unknown): void;
}

type AfterCommit<M> = (results: readonly { result: AppendResult; meta: M }[]) => void;

const MAX_BATCH = 256;

/**
 * Group commit in lanes. A chat always writes through the same lane (by id), and each lane has
 * one write in flight at a time: sends accepted in the same event-loop turn, and those that
 * arrive while the lane's write is in flight, are stored together in its next one. So each
 * chat's seqs are committed — and announced through `afterCommit`, synchronously and in order —
 * exactly in the order its sends were accepted, while lanes overlap their round trips
 * (`Store.writeConcurrency`: one lane for SQLite's single in-process writer, several for a
 * server database). The first write of a burst waits one `setImmediate` (the rest of the turn's
 * I/O), nothing more: with a synchronous driver a transaction would otherwise finish before the
 * next frame is even read, and every message would pay its own commit.
 */
export class MessageWriter<M> {
  private readonly lanes: Lane<M>[];

  constructor(store: Store, now: () => number, afterCommit: AfterCommit<M>) {
    const n = Math.max(1, Math.floor(store.writeConcurrency));
    this.lanes = Array.from({ length: n }, () => new Lane(store, now, afterCommit));
  }

  append(row: NewMessage, meta: M): Promise<AppendResult> {
    return this.lanes[row.chatId % this.lanes.length]!.append(row, meta);
  }

  /** Resolves once everything accepted so far is committed (graceful shutdown). */
  async flush(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.flush()));
  }
}

class Lane<M> {
  private queue: Pending<M>[] = [];
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly afterCommit: AfterCommit<M>,
  ) {}

  append(row: NewMessage, meta: M): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, meta, resolve, reject });
      if (!this.running) this.running = this.drain();
    });
  }

  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          await this.write(batch);
        } catch (err) {
          // A batch fails whole when one of its chats is gone (deleted between the access check
          // and the commit): write each chat's part alone, so only that chat's senders fail.
          const byChat = new Map<number, Pending<M>[]>();
          for (const p of batch) {
            let list = byChat.get(p.row.chatId);
            if (!list) byChat.set(p.row.chatId, (list = []));
            list.push(p);
          }
          if (byChat.size === 1) {
            for (const p of batch) p.reject(err);
            continue;
          }
          for (const part of byChat.values()) {
            await this.write(part).catch((partErr: unknown) => {
              for (const p of part) p.reject(partErr);
            });
          }
        }
      }
    } finally {
      this.running = null;
    }
  }

  private async write(batch: Pending<M>[]): Promise<void> {
    const results = await this.store.appendMessages(
      batch.map((p) => p.row),
      this.now(),
    );
    try {
      this.afterCommit(batch.map((p, i) => ({ result: results[i] as AppendResult, meta: p.meta })));
    } catch {
      // Announcing is best effort: the messages are stored and clients catch up by seq.
    }
    batch.forEach((p, i) => p.resolve(results[i] as AppendResult));
  }
}
