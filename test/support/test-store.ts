import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/ports/store.js';
import { openPostgresStore } from '../../src/storage/postgres/open-postgres-store.js';
import { openSqliteStore } from '../../src/storage/sqlite/open-sqlite-store.js';
import type { Backend } from './backends.js';
import { createTestDatabase } from './postgres.js';

export interface OpenedStore {
  readonly store: Store;
  /** Closes the store and removes its database (a throwaway PostgreSQL database or SQLite folder). */
  close(): Promise<void>;
}

/** A fresh, migrated store of one backend, for suites that test the Store port itself. */
export async function openTestStore(backend: Backend, name: string): Promise<OpenedStore> {
  if (backend === 'postgres') {
    const db = await createTestDatabase();
    const store = await openPostgresStore(db.url);
    return {
      store,
      close: async () => {
        await store.close();
        await db.drop();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const store = await openSqliteStore(join(dir, 'chat.db'));
  return {
    store,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
