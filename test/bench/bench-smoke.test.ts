import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupCommitDriver, referenceDriver } from '../../bench/clients/hub.js';
import { naiveDriver } from '../../bench/clients/socketio.js';
import type { Connection, Driver } from '../../bench/clients/driver.js';
import { DeliveryTracker, prime, runOpenLoop, seededRandom } from '../../bench/delivery-tracker.js';
import { startGroupCommitReference } from '../../bench/group-commit-reference-server.js';
import { startNaiveReference } from '../../bench/naive-reference-server.js';
import { startReferenceServer, type ReferenceServer } from '../../bench/reference-server.js';
import { openReferenceStore, type ReferenceStore } from '../../bench/reference-store.js';
import { makeTopology, mapLimit } from '../../bench/topology.js';
import { backends } from '../support/backends.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

/**
 * The benchmark's own correctness (not speed): the open-loop generator against the reference
 * server at a low rate must account for every delivery exactly once, in seq order. No timing
 * assertions.
 */
describe('bench generator against the reference server', () => {
  let server: ReferenceServer;
  const connections: Connection[] = [];

  beforeAll(async () => {
    server = await startReferenceServer(0);
  });
  afterAll(async () => {
    for (const c of connections) c.close();
    await server.close();
  });

  it('delivers every message to every member of its group, once, with contiguous seq', async () => {
    const topology = makeTopology(30, 10, () => '');
    const tracker = new DeliveryTracker(topology, true);
    await mapLimit(topology.members, 10, async (m) => {
      connections[m.index] = await referenceDriver.connect(`http://127.0.0.1:${server.port}`, m, topology.groups[m.group]!, tracker);
    });
    const primed = await prime(tracker, connections);
    expect(primed.lost).toBe(0);

    const run = await runOpenLoop(tracker, connections, { rate: 100, durationMs: 2000, random: seededRandom(1) });
    await tracker.drain(run, 3000, 8000);

    expect(run.sent).toBe(200);
    expect(run.expected).toBe(2000);
    expect(run.received).toBe(run.expected);
    expect(run.lost).toBe(0);
    expect(run.duplicates).toBe(0);
    expect(run.misrouted).toBe(0);
    expect(tracker.seqViolations).toBe(0);
    expect(tracker.errors).toBe(0);
    expect(run.nLatencies).toBe(run.received);
  });

  it('counts a delivery it did not expect as a duplicate, not as a second receipt', async () => {
    const topology = makeTopology(2, 2, () => '');
    const tracker = new DeliveryTracker(topology, true);
    const sent: string[] = [];
    const fake: Connection = { send: (t) => void sent.push(t), close: () => {}, open: true };
    const run = tracker.begin(1);
    tracker.sendFrom(run, 0, topology.members[0]!, fake, 0);
    const [a, b] = topology.members;
    tracker.deliver(a!, sent[0]!, 1, 1);
    tracker.deliver(a!, sent[0]!, 1, 1);
    expect(run.received).toBe(1);
    expect(run.duplicates).toBe(1);
    expect(run.lost).toBe(1);
    expect(tracker.seqViolations).toBe(1);
    tracker.deliver(b!, sent[0]!, 1, 1);
    expect(run.lost).toBe(0);
  });
});

/** Drives one reference with the generator at a low rate; closes every connection afterwards. */
async function drive(driver: Driver, port: number): Promise<{ run: Awaited<ReturnType<typeof runOpenLoop>>; tracker: DeliveryTracker }> {
  const topology = makeTopology(20, 10, () => '');
  const tracker = new DeliveryTracker(topology, true);
  const connections: Connection[] = [];
  try {
    await mapLimit(topology.members, 10, async (m) => {
      connections[m.index] = await driver.connect(`http://127.0.0.1:${port}`, m, topology.groups[m.group]!, tracker);
    });
    expect((await prime(tracker, connections)).lost).toBe(0);
    const run = await runOpenLoop(tracker, connections, { rate: 60, durationMs: 1000, random: seededRandom(3) });
    await tracker.drain(run, 3000, 8000);
    return { run, tracker };
  } finally {
    for (const c of connections) c?.close();
  }
}

describe.each(backends)('persisting references on %s', (backend) => {
  let database: TestDatabase | undefined;
  let dataDir: string;
  const env = (): NodeJS.ProcessEnv => (database ? { DATABASE_URL: database.url } : { DATA_DIR: dataDir });

  beforeAll(async () => {
    if (backend === 'postgres') database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('the store numbers each room in batch order, one batch or one message at a time, and drops its tables', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bench-ref-store-'));
    let store: ReferenceStore | undefined = await openReferenceStore({ prefix: 'ref_test', databaseUrl: env()['DATABASE_URL'], dataDir: env()['DATA_DIR'] });
    try {
      const m = (roomId: string, body: string) => ({ roomId, senderId: 'u1', body, createdAt: Date.now() });
      const stored = await store.insertBatch([m('a', 'a1'), m('b', 'b1'), m('a', 'a2'), m('a', 'a3'), m('b', 'b2')]);
      expect(stored.map((s) => s.seq)).toEqual([1, 1, 2, 3, 2]);
      expect((await store.insertOne(m('a', 'a4'))).seq).toBe(4);
      const history = await store.history('a');
      expect(history.map((h) => [h.seq, h.body])).toEqual([[1, 'a1'], [2, 'a2'], [3, 'a3'], [4, 'a4']]);
      // The ids the batch handed back are the rows' own.
      expect(history.slice(0, 3).map((h) => h.id)).toEqual([stored[0]!.id, stored[2]!.id, stored[3]!.id]);
      await store.close();
      store = undefined;
      if (database) {
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        const { rows } = await client.query("select count(*)::int as n from pg_tables where tablename like 'ref_test%'");
        await client.end();
        expect(rows[0].n).toBe(0);
      }
    } finally {
      await store?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it.each([
    ['naive', naiveDriver, startNaiveReference],
    ['group-commit', groupCommitDriver, async (port: number, host: string, e: NodeJS.ProcessEnv) => {
      const { server, store } = await startGroupCommitReference(port, host, e);
      return { port: server.port, store, close: () => server.close() };
    }],
  ] as const)('%s: every message stored once, then delivered to every member once, seq contiguous', async (_name, driver, start) => {
    dataDir = mkdtempSync(join(tmpdir(), 'bench-ref-'));
    const server = await start(0, '127.0.0.1', env());
    try {
      const { run, tracker } = await drive(driver, server.port);
      expect(run.sent).toBe(60);
      expect(run.received).toBe(run.expected);
      expect(run.duplicates).toBe(0);
      expect(run.misrouted).toBe(0);
      expect(tracker.seqViolations).toBe(0);
      expect(tracker.errors).toBe(0);
      // Priming (one per group) plus the run, all stored with seq 1…n per room.
      const stored = [...(await server.store.history('1')), ...(await server.store.history('2'))];
      expect(stored.length).toBe(run.sent + 2);
      expect(new Set(stored.map((s) => s.body)).size).toBe(stored.length);
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
