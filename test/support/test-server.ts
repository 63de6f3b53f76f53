import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { buildApp, type BuildOptions, type ChatServer } from '../../src/app/build-app.js';
import { loadConfig } from '../../src/app/config.js';
import { createLogger } from '../../src/app/create-logger.js';
import type { Backend } from './backends.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export interface TestServer {
  readonly server: ChatServer;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** ws://127.0.0.1:<port> */
  readonly wsUrl: string;
  readonly dataDir: string;
  readonly databaseUrl: string | null;
  close(): Promise<void>;
  /** Stops the server but keeps its data (restart tests). */
  stop(): Promise<void>;
}

export interface StartOptions extends BuildOptions {
  readonly env?: Record<string, string>;
  /** Reuse the data of an earlier server (restart tests). */
  readonly dataDir?: string;
  readonly database?: TestDatabase;
}

/** A real server on an ephemeral port, with its own data directory or PostgreSQL database. */
export async function startServer(backend: Backend, options: StartOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'chat-test-'));
  const database = backend === 'postgres' ? (options.database ?? (await createTestDatabase())) : undefined;
  let server: ChatServer | undefined;
  let address: string;
  try {
    const config = loadConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: dataDir,
      JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: 'silent',
      RATE_LIMIT_MESSAGES: '0',
      RATE_LIMIT_CONNECTIONS: '0',
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...options.env,
    });
    server = await buildApp(config, { logger: options.logger ?? createLogger(config.logLevel), ...options });
    address = await server.listen();
  } catch (err) {
    // A start meant to fail (a bad setting, an unreachable dependency) leaves nothing behind.
    await server?.close().catch(() => undefined);
    if (!options.database) await database?.drop();
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const url = address.replace('localhost', '127.0.0.1');
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await server.close();
  };
  return {
    server,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    dataDir,
    databaseUrl: database?.url ?? null,
    stop,
    async close() {
      await stop();
      if (!options.database) await database?.drop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** An HS256 token as an external identity provider would issue it. */
export async function tokenFor(sub: string, claims: Record<string, unknown> = {}, options: { expiresIn?: string; secret?: string } = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(new TextEncoder().encode(options.secret ?? TEST_SECRET));
}

export interface TestUser {
  readonly id: string;
  readonly token: string;
  readonly username: string;
}

let counter = 0;
/** Registers a built-in account through the public API. */
export async function registerUser(t: TestServer, username = `user${process.pid}_${++counter}`): Promise<TestUser> {
  const res = await fetch(`${t.url}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'correct horse battery', email: `${username}@example.com`, name: username }),
  });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { accessToken: string; user: { id: string } };
  return { id: body.user.id, token: body.accessToken, username };
}

/** fetch with the user's token and JSON in/out. */
export async function api(
  t: TestServer,
  user: TestUser | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (user) headers['authorization'] = `Bearer ${user.token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(`${t.url}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
