import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresEnabled, type TestDatabase } from '../support/postgres.js';
import { redisClusterEnabled, startRedisCluster, type TestRedisCluster } from '../support/redis-cluster.js';
import { randomPrefix } from '../support/redis.js';
import { spawnServer, type ServerProcess } from '../support/server-process.js';
import { TEST_SECRET, tokenFor } from '../support/test-server.js';
import { waitFor } from '../support/wait.js';
import { JsonSocket } from '../support/ws-client.js';

/**
 * Scale-out on Redis Cluster, end to end: three real server processes (`src/app/main.ts`) with
 * `REDIS_CLUSTER_NODES` on a real 3-master cluster and one PostgreSQL database act as one
 * server; the whole cluster is then killed and started again, and delivery resumes with the
 * gap caught up by seq.
 */
const enabled = (await postgresEnabled()) && redisClusterEnabled;
if (!enabled) process.stderr.write('[tests] multi-process cluster test needs PostgreSQL and redis-server/redis-cli >= 7; skipped.\n');

interface Instance {
  readonly name: string;
  readonly proc: ServerProcess;
  readonly url: string;
  readonly wsUrl: string;
}

async function http(at: Instance, token: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${at.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON (metrics)
  }
  return { status: res.status, body: parsed };
}

async function metric(at: Instance, name: string): Promise<number> {
  const res = await http(at, null, 'GET', '/metrics');
  const line = String(res.body)
    .split('\n')
    .find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

interface User {
  readonly id: string;
  readonly token: string;
}

let userCounter = 0;
async function user(at: Instance, tag: string): Promise<User> {
  const id = `${tag}-${process.pid}-${++userCounter}`;
  const token = await tokenFor(id, { preferred_username: id });
  expect((await http(at, token, 'GET', '/auth/whoami')).status).toBe(200);
  return { id, token };
}

const sendDirect = (at: Instance, from: User, to: User, text: string) =>
  http(at, from.token, 'POST', `/api/v1/chat/direct/${encodeURIComponent(to.id)}/send`, { body: text });

describe.runIf(enabled)('three server processes on PostgreSQL and a real Redis Cluster act as one server', () => {
  let cluster: TestRedisCluster;
  let db: TestDatabase;
  const started: ServerProcess[] = [];
  const dirs: string[] = [];
  const sockets: JsonSocket[] = [];
  let a: Instance;
  let b: Instance;
  let c: Instance;

  const startInstance = async (name: string): Promise<Instance> => {
    const dir = mkdtempSync(join(tmpdir(), `scale-cluster-${name}-`));
    dirs.push(dir);
    const proc = await spawnServer({ DATA_DIR: dir, JWT_SECRET: TEST_SECRET, DATABASE_URL: db.url, REDIS_CLUSTER_NODES: cluster.nodesEnv, REDIS_PREFIX: prefix });
    started.push(proc);
    return { name, proc, url: proc.url, wsUrl: proc.url.replace(/^http/, 'ws') };
  };
  const prefix = randomPrefix();

  const stopProcess = async (child: ChildProcess, exited: Promise<unknown>): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  beforeAll(async () => {
    cluster = await startRedisCluster();
    db = await createTestDatabase();
    [a, b, c] = await Promise.all([startInstance('A'), startInstance('B'), startInstance('C')]);
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.ws.terminate();
    await Promise.all(started.map((p) => stopProcess(p.child, p.exited)));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await db?.drop();
    await cluster?.stop();
  });

  it('is ready on every instance, delivers across them, and replaces a channels connection across instances', { timeout: 60_000 }, async () => {
    for (const at of [a, b, c]) {
      const res = await http(at, null, 'GET', '/readyz');
      expect(res.status).toBe(200);
      expect(res.body.checks).toMatchObject({ redis: 'ok' });
    }
    const x = await user(a, 'x');
    const y = await user(a, 'y');
    const first = await sendDirect(a, x, y, 'hello');
    expect(first.status).toBe(200);
    const chatId = Number(first.body.message.conversation_id);
    const yOnB = await JsonSocket.open(`${b.wsUrl}/api/v1/ws`, { token: y.token });
    const yOnC = await JsonSocket.open(`${c.wsUrl}/api/v1/ws`, { token: y.token });
    sockets.push(yOnB, yOnC);
    expect((await sendDirect(a, x, y, 'across')).status).toBe(200);
    for (const s of [yOnB, yOnC]) await s.next((f) => f.type === 'message' && f.data.body === 'across' && f.data.conversation_id === String(chatId), 10_000);

    // channels: one connection per user per chat across instances; the newer one (on C) wins.
    const onB = await JsonSocket.open(`${b.wsUrl}/ws/chat/${chatId}/`, { token: x.token });
    sockets.push(onB);
    const closed = new Promise<number>((resolve) => onB.ws.once('close', (code) => resolve(code)));
    const onC = await JsonSocket.open(`${c.wsUrl}/ws/chat/${chatId}/`, { token: x.token });
    sockets.push(onC);
    expect(await Promise.race([closed, new Promise<string>((r) => setTimeout(() => r('still open'), 10_000))])).not.toBe('still open');
    expect(onC.ws.readyState).toBe(onC.ws.OPEN);
  });

  it('delivers again after every master is killed and started again, and the gap is caught up by seq', { timeout: 90_000 }, async () => {
    const x = await user(a, 'x');
    const y = await user(a, 'y');
    const first = await sendDirect(a, x, y, 'before');
    const chatId = Number(first.body.message.conversation_id);
    const yOnB = await JsonSocket.open(`${b.wsUrl}/api/v1/ws`, { token: y.token });
    sockets.push(yOnB);
    expect((await sendDirect(a, x, y, 'live')).status).toBe(200);
    await yOnB.next((f) => f.type === 'message' && f.data.body === 'live', 10_000);
    const resubscribesBefore = await metric(b, 'chat_bus_resubscribes_total');

    for (let i = 0; i < cluster.nodes.length; i++) await cluster.kill(i);
    await waitFor(async () => (await http(a, null, 'GET', '/readyz')).status === 503, 15_000, 'A to notice the cluster is gone');
    for (const text of ['gap-1', 'gap-2']) expect((await sendDirect(a, x, y, text)).status).toBe(200); // stored; live delivery lost

    for (let i = 0; i < cluster.nodes.length; i++) await cluster.restart(i);
    await cluster.waitHealthy(30_000);
    await waitFor(async () => (await metric(b, 'chat_bus_resubscribes_total')) > resubscribesBefore, 30_000, 'B to resubscribe');
    await waitFor(async () => (await http(a, null, 'GET', '/readyz')).status === 200, 30_000, 'A ready again');

    await waitFor(
      async () => {
        await sendDirect(a, x, y, 'after');
        return yOnB.frames.some((f) => f.type === 'message' && f.data.body === 'after');
      },
      20_000,
      'live delivery after the restart',
    );
    const res = await http(b, y.token, 'GET', `/api/v1/chat/conversations/${chatId}/messages?limit=50`);
    expect(res.status).toBe(200);
    const bodies = (res.body.messages as { seq: number; body: string }[]).sort((p, q) => p.seq - q.seq).map((m) => m.body);
    expect(bodies.slice(0, 4)).toEqual(['before', 'live', 'gap-1', 'gap-2']);
    expect(bodies.slice(4).every((t) => t === 'after')).toBe(true);
  });
});
