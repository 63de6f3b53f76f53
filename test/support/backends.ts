import { postgresEnabled } from './postgres.js';

export type Backend = 'sqlite' | 'postgres';

/**
 * The storage backends a suite runs on: SQLite always, PostgreSQL whenever it is reachable
 * (and in CI always: global setup fails the run if it is not).
 */
export const backends: Backend[] = (await postgresEnabled()) ? ['sqlite', 'postgres'] : ['sqlite'];
