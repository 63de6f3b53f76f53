import pg from 'pg';
import { cpuMicros } from './proc-stats.js';

/**
 * CPU of the PostgreSQL backends serving the bench's database (same machine): with
 * DATABASE_URL the storage work runs in those processes, not in the node server, so the
 * server's own CPU per message alone would flatter PostgreSQL. Null without DATABASE_URL or
 * when the backends' /proc entries are not readable.
 */
export class DatabaseCpu {
  private constructor(private readonly client: pg.Client) {}

  static async open(url: string | undefined): Promise<DatabaseCpu | null> {
    if (!url) return null;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      return new DatabaseCpu(client);
    } catch {
      await client.end().catch(() => {});
      return null;
    }
  }

  /** µs of CPU per backend pid of this database (the bench's own connection excluded). */
  async sample(): Promise<Map<number, number> | null> {
    try {
      const { rows } = await this.client.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
      const out = new Map<number, number>();
      for (const { pid } of rows) {
        try {
          out.set(pid, cpuMicros(pid));
        } catch {
          // backend ended, or /proc not readable for it
        }
      }
      return out;
    } catch {
      return null;
    }
  }

  /** CPU spent between two samples; a backend born in between counts from zero. */
  static delta(before: Map<number, number> | null, after: Map<number, number> | null): number | null {
    if (!before || !after || after.size === 0) return null;
    let total = 0;
    for (const [pid, us] of after) total += us - (before.get(pid) ?? 0);
    return total;
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }
}
