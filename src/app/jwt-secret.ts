import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';

/**
 * The HS256 secret: the configured one, or one generated once and kept with the data —
 * a file in DATA_DIR for SQLite, the settings table for PostgreSQL (so every instance shares it).
 */
export async function resolveJwtSecret(configured: string | null, store: Store, dataDir: string, log: Logger): Promise<string> {
  if (configured) return configured;
  const fresh = randomBytes(48).toString('base64url');
  if (store.kind === 'postgres') {
    const secret = await store.getOrSetSetting('jwt_secret', fresh);
    log.info({ where: 'database settings' }, 'JWT_SECRET not set: using the generated secret stored in the database');
    return secret;
  }
  const file = join(dataDir, 'jwt-secret');
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return existing;
  } catch {
    // not there yet
  }
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, fresh, { mode: 0o600 });
  log.info({ file }, 'JWT_SECRET not set: generated a secret and stored it in DATA_DIR');
  return fresh;
}
