/**
 * Reference "raw ws + group commit": `bench/reference-server.ts` (same wire as the `hub`
 * dialect, no auth) that stores every message before it is broadcast, the way a careful
 * single-process server would: one write in flight at a time; the messages accepted while it
 * runs are written together in the next one (PostgreSQL: one `INSERT … SELECT FROM unnest(…)`
 * with per-room seq; SQLite: the prepared INSERT in one `db.transaction` per batch), and each
 * batch is broadcast after its commit, in order. The difference to polychat is then what
 * polychat adds besides storing: auth, the core's rules, receipts, the bus, the dialects.
 *
 *   node --import tsx bench/group-commit-reference-server.ts
 *   (HOST, PORT; DATABASE_URL for PostgreSQL, else SQLite under DATA_DIR or a temp dir)
 */
import { pathToFileURL } from 'node:url';
import { startReferenceServer, type ReferenceServer } from './reference-server.js';
import { openReferenceStore, type NewMessage, type ReferenceStore, type StoredMessage } from './reference-store.js';

interface Pending {
  readonly message: NewMessage;
  resolve(stored: StoredMessage): void;
  reject(err: unknown): void;
}

/** Batches messages behind the write in flight; settles each batch's promises in order. */
export class GroupCommit {
  private queue: Pending[] = [];
  private writing = false;
  private scheduled = false;
  /** Batches written and messages in them (for a log line at exit). */
  batches = 0;
  messages = 0;

  constructor(private readonly write: (batch: readonly NewMessage[]) => Promise<StoredMessage[]>) {}

  append(message: NewMessage): Promise<StoredMessage> {
    return new Promise((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      // Wait out the current I/O phase first, so the frames read together form the first batch.
      if (!this.writing && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    this.writing = true;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      this.batches++;
      this.messages += batch.length;
      try {
        const stored = await this.write(batch.map((p) => p.message));
        batch.forEach((p, i) => p.resolve(stored[i]!));
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.writing = false;
  }
}

export async function startGroupCommitReference(port = 0, host = '127.0.0.1', env: NodeJS.ProcessEnv = process.env): Promise<{ server: ReferenceServer; store: ReferenceStore; commits: GroupCommit }> {
  const store = await openReferenceStore({ prefix: 'ref_gc', databaseUrl: env['DATABASE_URL'], dataDir: env['DATA_DIR'], poolSize: 1 });
  const commits = new GroupCommit((batch) => store.insertBatch(batch));
  const server = await startReferenceServer(port, host, { persist: (m) => commits.append(m), onClose: () => store.close() });
  return { server, store, commits };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { server, store, commits } = await startGroupCommitReference(Number(process.env['PORT'] ?? 8091), process.env['HOST'] ?? '127.0.0.1');
  process.stdout.write(`group-commit reference server listening on ${server.port} (${store.kind})\n`);
  const stop = (): void =>
    void server.close().then(() => {
      process.stdout.write(`group-commit reference: ${commits.messages} messages in ${commits.batches} batches\n`);
      process.exit(0);
    });
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
