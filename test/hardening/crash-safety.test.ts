import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { spawnServer } from '../support/server-process.js';
import { startServer, TEST_SECRET, tokenFor } from '../support/test-server.js';
import { sleep } from '../support/wait.js';

/** `SOAK=1` (npm run soak): a 20 s burst before the kill instead of 1.5 s. */
const BURST_MS = process.env['SOAK'] === '1' ? 20_000 : 1500;

/**
 * kill -9 in the middle of a burst: every send the server acknowledged (hub echo, Socket.IO
 * ack) must be in history after a restart, with gapless seqs and no duplicates.
 */
describe.each(backends)('crash safety on %s', (backend) => {
  let db: TestDatabase | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'crash-'));
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing acknowledged when killed while 4 clients send as fast as they can', async () => {
    db = backend === 'postgres' ? await createTestDatabase() : undefined;
    const env = { DATA_DIR: dir, JWT_SECRET: TEST_SECRET, RATE_LIMIT_MESSAGES: '0', ...(db ? { DATABASE_URL: db.url } : {}) };
    const proc = await spawnServer(env);
    const tokens = await Promise.all(['k1', 'k2', 'k3', 'k4'].map((sub) => tokenFor(sub, { preferred_username: sub })));
    for (const token of tokens) await fetch(`${proc.url}/auth/whoami`, { headers: { authorization: `Bearer ${token}` } });
    const create = await fetch(`${proc.url}/api/v1/chat/direct/k2/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ body: 'start' }),
    });
    expect(create.status).toBeLessThan(300);
    const chatId = String(((await create.json()) as { message: { conversation_id: string } }).message.conversation_id);

    const acked = new Set<string>(['start']);
    let stop = false;

    // Two hub clients: a send counts as acknowledged when its own `message` event comes back.
    const hubSender = (token: string, name: string) =>
      new Promise<void>((resolve) => {
        const ws = new WebSocket(`${proc.url.replace('http', 'ws')}/api/v1/ws?token=${token}`);
        let n = 0;
        let inFlight = 0;
        const pump = (): void => {
          while (!stop && inFlight < 16 && ws.readyState === WebSocket.OPEN) {
            inFlight++;
            ws.send(JSON.stringify({ type: 'message', data: { conversation_id: chatId, body: `${name}-${n++}` } }));
          }
        };
        ws.on('open', pump);
        ws.on('message', (raw) => {
          const frame = JSON.parse(raw.toString()) as { type: string; data: { body?: string } };
          if (frame.type === 'message' && frame.data.body?.startsWith(`${name}-`)) {
            acked.add(frame.data.body);
            inFlight--;
            pump();
          }
        });
        ws.on('error', () => {});
        ws.on('close', () => resolve());
      });

    // Two Socket.IO clients: acknowledged when the ack says success.
    const ioSender = (token: string, name: string) =>
      new Promise<void>((resolve) => {
        const socket = io(proc.url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
        let n = 0;
        let inFlight = 0;
        const pump = (): void => {
          while (!stop && inFlight < 16 && socket.connected) {
            inFlight++;
            const text = `${name}-${n++}`;
            socket.emit('send_message', { chatId, text }, (res: { success: boolean }) => {
              inFlight--;
              if (res?.success) acked.add(text);
              pump();
            });
          }
        };
        socket.on('connect', pump);
        socket.on('disconnect', () => resolve());
        socket.on('connect_error', () => resolve());
      });

    const senders = [hubSender(tokens[0]!, 'h1'), hubSender(tokens[1]!, 'h2'), ioSender(tokens[0]!, 's1'), ioSender(tokens[1]!, 's2')];
    await sleep(BURST_MS);
    proc.child.kill('SIGKILL');
    await proc.exited;
    stop = true;
    await Promise.all(senders);
    expect(acked.size).toBeGreaterThan(20);

    const again = await startServer(backend, { dataDir: dir, ...(db ? { database: db } : {}) });
    try {
      const core = again.server.core;
      const stored: { seq: number; text: string }[] = [];
      for (let afterSeq = 0; ; ) {
        const page = await core.messagesAfterSeq('k1', Number(chatId), afterSeq, 200);
        if (page.length === 0) break;
        stored.push(...page);
        afterSeq = page[page.length - 1]!.seq;
      }
      expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
      const texts = stored.map((m) => m.text);
      expect(new Set(texts).size).toBe(texts.length);
      const missing = [...acked].filter((text) => !texts.includes(text));
      expect(missing).toEqual([]);
    } finally {
      await again.stop();
    }
  }, BURST_MS + 60_000);
});
