/**
 * `npm run bench -- --instances 3` (issue 15): the standard workload (1000 `hub` users in
 * groups of 10, 2000 msg/s) with the clients spread round-robin over three server processes
 * sharing one PostgreSQL database and one bus. Prints lost deliveries, latency, seq order, and
 * CPU per message of the servers, the PostgreSQL backends and the bus (Redis's own `INFO cpu`,
 * read before and after the measured batch).
 *
 * The bus is a `BusDeployment`: one Redis (`singleRedis`), or with `--redis-cluster` a 3-master
 * Redis Cluster of the run's own (`redisClusterBus`, the tests' cluster helper) whose `INFO cpu`
 * is summed over its masters.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { bulkStorage } from './bulk-provision.js';
import { drivers } from './clients/index.js';
import type { Connection } from './clients/driver.js';
import { DatabaseCpu } from './database-cpu.js';
import { DeliveryTracker, prime, runOpenLoop, seededRandom } from './delivery-tracker.js';
import { cpuMicros } from './proc-stats.js';
import { Provisioner } from './provision.js';
import type { BenchConfig } from './scenarios.js';
import { startPolychat, type Polychat } from './server-process.js';
import { startRedisCluster } from '../test/support/redis-cluster.js';
import { makeTopology, mapLimit } from './topology.js';

/** The bus the instances share, and how to read its CPU. */
export interface BusDeployment {
  readonly label: string;
  /** Environment for every server process (REDIS_URL + a key prefix of this run's own). */
  readonly env: Record<string, string>;
  /** CPU the bus has used so far (µs), all of its nodes; null when it cannot be read. */
  cpuMicros(): Promise<number | null>;
  close(): Promise<void>;
}

/** Redis's own CPU from `INFO cpu` (used_cpu_sys + used_cpu_user, seconds). */
export async function redisCpuMicros(client: Redis): Promise<number | null> {
  try {
    const info = await client.info('cpu');
    const read = (field: string): number => Number(new RegExp(`^${field}:([0-9.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
    const total = read('used_cpu_sys') + read('used_cpu_user');
    return Number.isFinite(total) ? total * 1_000_000 : null;
  } catch {
    return null;
  }
}

/** One Redis (REDIS_URL, else 127.0.0.1:6379), this run's keys under their own prefix. */
export async function singleRedis(url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'): Promise<BusDeployment> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  const prefix = `bench-${randomBytes(3).toString('hex')}:`;
  return {
    label: 'redis',
    env: { REDIS_URL: url, REDIS_PREFIX: prefix },
    cpuMicros: () => redisCpuMicros(client),
    async close() {
      // The run's presence and rate-limit keys.
      const keys = await client.keys(`${prefix}*`).catch(() => [] as string[]);
      if (keys.length) await client.del(...keys).catch(() => 0);
      client.disconnect();
    },
  };
}

/** A 3-master Redis Cluster on free local ports, started for this run and removed with it. */
export async function redisClusterBus(): Promise<BusDeployment> {
  const cluster = await startRedisCluster();
  const clients = cluster.seeds.map((seed) => new Redis({ ...seed, lazyConnect: true, maxRetriesPerRequest: 1 }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
  } catch (err) {
    for (const c of clients) c.disconnect();
    await cluster.stop();
    throw err;
  }
  return {
    label: 'redis-cluster (3 masters)',
    env: { REDIS_CLUSTER_NODES: cluster.nodesEnv, REDIS_PREFIX: `bench-${randomBytes(3).toString('hex')}:` },
    async cpuMicros() {
      const each = await Promise.all(clients.map((c) => redisCpuMicros(c)));
      return each.some((v) => v === null) ? null : each.reduce<number>((sum, v) => sum + v!, 0);
    },
    async close() {
      for (const c of clients) c.disconnect();
      await cluster.stop();
    },
  };
}

export interface InstancesResult {
  scenario: string;
  bus: string;
  storage: string;
  instances: number;
  ok: boolean;
  error?: string;
  rate: number;
  durationS: number;
  sent: number;
  expected: number;
  received: number;
  lost: number;
  duplicates: number;
  seqViolations: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  serverCpuUsPerMsg: number;
  databaseCpuUsPerMsg: number | null;
  busCpuUsPerMsg: number | null;
  loadAvg1m: number;
}

export async function runInstances(config: BenchConfig, options: { instances: number; bus: () => Promise<BusDeployment>; log: (line: string) => void }): Promise<InstancesResult> {
  const { instances, log } = options;
  const driver = drivers['hub']!;
  const result: InstancesResult = {
    scenario: `instances-${instances}`, bus: '?', storage: 'postgresql', instances, ok: false, rate: config.rate, durationS: config.durationMs / 1000,
    sent: 0, expected: 0, received: 0, lost: 0, duplicates: 0, seqViolations: 0, p50Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN,
    serverCpuUsPerMsg: Number.NaN, databaseCpuUsPerMsg: null, busCpuUsPerMsg: null, loadAvg1m: 0,
  };
  const storage = await bulkStorage({ postgres: true });
  const bus = await options.bus();
  result.bus = bus.label;
  const servers: Polychat[] = [];
  let connections: Connection[] = [];
  let database: DatabaseCpu | null = null;
  try {
    const ids = Array.from({ length: config.users }, (_, i) => `b${i + 1}`);
    const groupCount = Math.ceil(config.users / config.groupSize);
    await storage.fill(ids, Array.from({ length: groupCount }, (_, g) => ({ id: g + 1, name: `bench ${g + 1}`, memberIds: ids.slice(g * config.groupSize, (g + 1) * config.groupSize) })));
    // One JWT secret for all instances: any of them accepts any client.
    const secret = randomBytes(32).toString('hex');
    for (let i = 0; i < instances; i++) servers.push(await startPolychat({ env: { ...storage.env, ...bus.env, JWT_SECRET: secret } }));
    log(`instances: ${instances} servers up on ${storage.kind} + ${bus.label}`);
    const provisioner = new Provisioner(servers[0]!.url, secret);
    const tokens = new Map<string, string>();
    for (const id of ids) tokens.set(id, await provisioner.token(id));
    const topology = makeTopology(config.users, config.groupSize, (id) => tokens.get(id)!, 'b');
    const tracker = new DeliveryTracker(topology, driver.inlineSeq);
    connections = [];
    await mapLimit(topology.members, 50, async (m) => {
      connections[m.index] = await driver.connect(servers[m.index % instances]!.url, m, topology.groups[m.group]!, tracker);
    });
    const primed = await prime(tracker, connections);
    if (primed.lost > 0) throw new Error(`priming: ${primed.lost} of ${primed.expected} deliveries missing`);
    const warm = await runOpenLoop(tracker, connections, { rate: Math.max(10, config.rate / 2), durationMs: config.warmupMs, random: seededRandom(7) });
    await tracker.drain(warm);

    database = await DatabaseCpu.open(storage.env['DATABASE_URL']);
    result.loadAvg1m = Number((loadavg()[0] ?? 0).toFixed(2));
    const violations0 = tracker.seqViolations;
    const db0 = (await database?.sample()) ?? null;
    const bus0 = await bus.cpuMicros();
    const cpu0 = servers.map((s) => cpuMicros(s.pid));
    const run = await runOpenLoop(tracker, connections, { rate: config.rate, durationMs: config.durationMs, random: seededRandom(42) });
    await tracker.drain(run);
    const cpu = servers.reduce((sum, s, i) => sum + cpuMicros(s.pid) - cpu0[i]!, 0);
    const bus1 = await bus.cpuMicros();
    const db = DatabaseCpu.delta(db0, (await database?.sample()) ?? null);
    const p = run.percentiles();
    const r = (n: number, d = 2): number => (Number.isFinite(n) ? Number(n.toFixed(d)) : n);
    Object.assign(result, {
      sent: run.sent,
      expected: run.expected,
      received: run.received,
      lost: run.lost,
      duplicates: run.duplicates,
      seqViolations: tracker.seqViolations - violations0,
      p50Ms: r(p.p50),
      p99Ms: r(p.p99),
      maxMs: r(p.max),
      serverCpuUsPerMsg: r(cpu / run.sent, 1),
      databaseCpuUsPerMsg: db === null ? null : r(db / run.sent, 1),
      busCpuUsPerMsg: bus0 === null || bus1 === null ? null : r((bus1 - bus0) / run.sent, 1),
    });
    result.ok = true;
  } catch (err) {
    result.error = (err as Error).message.split('\n')[0];
  } finally {
    for (const c of connections) c?.close();
    await database?.close();
    await Promise.all(servers.map((s) => s.stop()));
    await bus.close();
    await storage.drop();
  }
  return result;
}
