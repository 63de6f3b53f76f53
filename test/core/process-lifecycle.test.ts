import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { runToExit, spawnServer } from '../support/server-process.js';
import { api, registerUser, startServer, type TestServer } from '../support/test-server.js';
import { JsonSocket } from '../support/ws-client.js';

describe('configuration', () => {
  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['MAX_MESSAGE_LENGTH', '0'],
    ['RATE_LIMIT_MESSAGES', '-1'],
    ['LOG_LEVEL', 'loud'],
    ['JWT_SECRET', 'short'],
    ['REDIS_URL', 'not a url'],
  ])('a bad %s=%s stops the server with one line naming it', async (name, value) => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const { code, output } = await runToExit({ DATA_DIR: dir, [name]: value });
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(1);
    const lines = output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(name);
  });
});

describe('graceful shutdown', () => {
  it('exits 0 on SIGTERM with a client connected, and keeps what it acknowledged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sig-'));
    const proc = await spawnServer({ DATA_DIR: dir });
    const reg = await fetch(`${proc.url}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'sigterm_user', password: 'password123' }),
    });
    expect(reg.status).toBe(201);
    // An idle keep-alive connection must not hold the shutdown open.
    await fetch(`${proc.url}/healthz`, { keepalive: true });
    // A live WebSocket is closed with 1001 "going away".
    const token = ((await reg.clone().json()) as { accessToken: string }).accessToken;
    const socket = await JsonSocket.open(`${proc.url.replace('http', 'ws')}/api/v1/ws?token=${token}`);
    const started = Date.now();
    proc.child.kill('SIGTERM');
    expect((await socket.closed()).code).toBe(1001);
    expect(await proc.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    // The generated secret was kept with the data, as SPEC says, and no token was logged.
    expect(readFileSync(join(dir, 'jwt-secret'), 'utf8').length).toBeGreaterThanOrEqual(32);
    const body = (await reg.json()) as { accessToken: string };
    expect(proc.logs.join('\n')).not.toContain(body.accessToken);
    expect(proc.logs.join('\n')).not.toContain('password123');
    const again = await spawnServer({ DATA_DIR: dir });
    const login = await fetch(`${again.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'sigterm_user', password: 'password123' }),
    });
    expect(login.status).toBe(200);
    // The old token still verifies: the secret survived the restart.
    expect((await fetch(`${again.url}/auth/whoami`, { headers: { authorization: `Bearer ${body.accessToken}` } })).status).toBe(200);
    again.child.kill('SIGINT');
    expect(await again.exited).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe.each(backends)('restart on %s', (backend) => {
  let db: TestDatabase | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps users, chats, messages and receipts across a restart on the same data', async () => {
    dir = mkdtempSync(join(tmpdir(), 'restart-'));
    db = backend === 'postgres' ? await createTestDatabase() : undefined;
    const first: TestServer = await startServer(backend, { dataDir: dir, ...(db ? { database: db } : {}) });
    const alice = await registerUser(first);
    const bob = await registerUser(first);
    const core = first.server.core;
    const chat = await core.createGroup(alice.id, { name: 'durable', memberIds: [bob.id] });
    for (const text of ['one', 'two', 'three']) await core.sendMessage(alice.id, { chatId: chat.id, text });
    await core.markRead(bob.id, chat.id);
    await first.stop();

    const second = await startServer(backend, { dataDir: dir, ...(db ? { database: db } : {}) });
    try {
      const core2 = second.server.core;
      expect((await api(second, bob, 'GET', '/auth/whoami')).body).toMatchObject({ id: bob.id, username: bob.username });
      const list = await core2.listChats(bob.id, { limit: null, offset: 0 });
      expect(list.map((s) => s.chat.name)).toEqual(['durable']);
      expect(list[0]).toMatchObject({ unreadCount: 0, member: { readSeq: 3, deliveredSeq: 3 } });
      expect((await core2.history(alice.id, chat.id, { limit: 10, offset: 0 })).map((m) => [m.seq, m.text])).toEqual([
        [1, 'one'],
        [2, 'two'],
        [3, 'three'],
      ]);
      expect((await core2.sendMessage(bob.id, { chatId: chat.id, text: 'four' })).message.seq).toBe(4);
    } finally {
      await second.stop();
    }
  });
});
