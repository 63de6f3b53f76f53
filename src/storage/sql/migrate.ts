import { Migrator, type Kysely, type MigrationProvider } from 'kysely';
import { migrations } from './migrations.js';

/** Applies every pending migration; fails loudly (the server must not start on a half schema). */
export async function migrate(db: Kysely<unknown>, flavor: 'sqlite' | 'postgres'): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(flavor) };
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
