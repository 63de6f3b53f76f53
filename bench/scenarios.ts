import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { drivers } from './clients/index.js';
import type { Connection, Driver } from './clients/driver.js';
import { DeliveryTracker, prime, runOpenLoop, seededRandom, type RunState } from './delivery-tracker.js';
import { DatabaseCpu } from './database-cpu.js';
import { cpuMicros, machineBusyMicros, rssBytes } from './proc-stats.js';
import { Provisioner } from './provision.js';
import { isReference, startPolychat, startReference, type StartedProcess } from './server-process.js';
import { makeTopology, mapLimit, sleep, type Topology } from './topology.js';

export interface BenchConfig {
  readonly users: number;
  readonly groupSize: number;
  readonly rate: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly idleConnections: number;
  readonly idleSettleMs: number;
  readonly findMax: { readonly startRate: number; readonly factor: number; readonly stepMs: number; readonly p99LimitMs: number; readonly maxRate: number };
  /** Hard cap per scenario, from server start to stop. */
  readonly scenarioBudgetMs: number;
  /** `--cpu-prof` output directory for the polychat server (null: no profiling). */
  readonly profileDir: string | null;
  /**
   * Shared machine: when other processes used more than 0.3 cores during a fixed-rate batch,
   * measure again on the same server (up to this many times, inside the budget) and keep the
   * least disturbed batch.
   */
  readonly busyRetries: number;
}

export interface LoadFigures {
  rate: number;
  durationS: number;
  sent: number;
  expected: number;
  received: number;
  lost: number;
  duplicates: number;
  misrouted: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** How late the generator itself sent (p99, ms): large values mean the generator, not the server, is saturated. */
  sendLagP99Ms: number;
  serverCpuUsPerMsg: number;
  /** PostgreSQL backends' CPU per message (DATABASE_URL runs only), else null. */
  databaseCpuUsPerMsg: number | null;
  generatorCpuUsPerMsg: number;
  serverRssMb: number;
  /** Monotonic-clock window of the measured phase (µs), to cut a CPU profile to it. */
  windowUs: [number, number];
  /** 1-minute load average when the batch started: the machine is shared, this says how busy it was. */
  loadAvg1m: number;
  /**
   * Cores' worth of CPU used during the measured window by processes that are neither the
   * server, nor the generator, nor the database backends: other people's work on this shared
   * machine. Above ~0.3 the figures are disturbed.
   */
  otherCores: number;
  /** Deliveries of this batch that arrived after the drain gave up (counted in `lost`). */
  lateAfterDrain: number;
  /** Frames the clients received during the batch per message sent (10 = only the messages themselves). */
  framesPerMessage: number;
}

export interface ScenarioResult {
  scenario: string;
  target: string;
  storage: string;
  kind: 'load' | 'find-max' | 'idle';
  ok: boolean;
  error?: string;
  load?: LoadFigures;
  steps?: LoadFigures[];
  maxRateHeld?: number | null;
  idle?: { connections: number; open: number; rssBeforeMb: number; rssAfterMb: number; kbPerConnection: number; note: string };
  seqCheck?: 'inline' | 'history' | 'unavailable';
  seqViolations?: number | null;
  /** Received ids the REST history did not show (history mode only); not counted as violations. */
  seqUnverified?: number;
  stray?: number;
  errors?: number;
  errorSamples?: string[];
  connectMs?: number;
  /** Fixed-rate batches measured (more than one when other processes disturbed the first). */
  attempts?: number;
  groupsVia?: string;
  server?: string;
}

/** Other processes' CPU (cores) above which a batch counts as disturbed. */
export const BUSY_CORES = 0.3;

const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);

interface Target {
  readonly proc: StartedProcess;
  readonly database: DatabaseCpu | null;
  readonly storage: string;
  readonly provisioner: Provisioner | null;
  readonly server: string;
}

async function startTarget(target: string, config: BenchConfig, manyFiles: boolean): Promise<Target> {
  if (isReference(target)) {
    const proc = await startReference(target, { manyFiles });
    // The persisting references store into the bench's database: measure its backends too.
    const database = proc.storage === 'postgresql' ? await DatabaseCpu.open(process.env['DATABASE_URL']) : null;
    return { proc, database, storage: proc.storage, provisioner: null, server: proc.script };
  }
  const nodeFlags = config.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${config.profileDir}`] : [];
  const proc = await startPolychat({ manyFiles, nodeFlags });
  const database = await DatabaseCpu.open(process.env['DATABASE_URL']);
  return { proc, database, storage: proc.storage, provisioner: new Provisioner(proc.url, proc.jwtSecret), server: proc.entry };
}

async function topologyFor(target: Target, users: number, groupSize: number, prefix: string): Promise<Topology> {
  const ids = Array.from({ length: users }, (_, i) => `${prefix}${i + 1}`);
  const tokens = new Map<string, string>();
  if (target.provisioner) for (const id of ids) tokens.set(id, await target.provisioner.token(id));
  return makeTopology(users, groupSize, (id) => tokens.get(id) ?? '', prefix);
}

function budget<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} exceeded its ${Math.round(ms / 1000)} s budget`)), ms);
  });
  // The abandoned work may still fail later (its sockets are closed under it): never unhandled.
  work.catch(() => {});
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

async function connectAll(driver: Driver, target: Target, topology: Topology, tracker: DeliveryTracker, concurrency: number): Promise<Connection[]> {
  const connections: Connection[] = [];
  try {
    await mapLimit(topology.members, concurrency, async (m) => {
      connections[m.index] = await driver.connect(target.proc.url, m, topology.groups[m.group]!, tracker);
    });
  } catch (err) {
    for (const c of connections) c?.close();
    throw err;
  }
  return connections;
}

function figures(run: RunState, rate: number, durationMs: number, cpuUs: number, dbUs: number | null, genUs: number, pid: number, windowUs: [number, number], loadAvg1m: number, machineUs: number, frames: number): LoadFigures {
  const p = run.percentiles();
  const round = (n: number, d = 2): number => (Number.isFinite(n) ? Number(n.toFixed(d)) : n);
  return {
    rate,
    durationS: durationMs / 1000,
    sent: run.sent,
    expected: run.expected,
    received: run.received,
    lost: run.lost,
    duplicates: run.duplicates,
    misrouted: run.misrouted,
    p50Ms: round(p.p50),
    p95Ms: round(p.p95),
    p99Ms: round(p.p99),
    maxMs: round(p.max),
    sendLagP99Ms: round(run.sendLagP99()),
    serverCpuUsPerMsg: round(cpuUs / run.sent, 1),
    databaseCpuUsPerMsg: dbUs === null ? null : round(dbUs / run.sent, 1),
    generatorCpuUsPerMsg: round(genUs / run.sent, 1),
    serverRssMb: round(rssBytes(pid) / 1048576, 1),
    windowUs,
    loadAvg1m: round(loadAvg1m),
    otherCores: round(Math.max(0, machineUs - cpuUs - (dbUs ?? 0) - genUs) / (windowUs[1] - windowUs[0])),
    lateAfterDrain: 0,
    framesPerMessage: round(frames / run.sent, 1),
  };
}

let late: (() => void)[] = [];

/** One measured open-loop batch: server CPU from /proc before the first send to the end of the drain. */
async function measure(target: Target, tracker: DeliveryTracker, connections: Connection[], rate: number, durationMs: number, random: () => number): Promise<LoadFigures> {
  const pid = target.proc.pid;
  const load = loadavg()[0] ?? 0;
  const db0 = (await target.database?.sample()) ?? null;
  const cpu0 = cpuMicros(pid);
  const gen0 = process.cpuUsage();
  const m0 = machineBusyMicros();
  const f0 = tracker.frames;
  const t0 = monoUs();
  const run = await runOpenLoop(tracker, connections, { rate, durationMs, random });
  await tracker.drain(run);
  const t1 = monoUs();
  const m1 = machineBusyMicros();
  const gen = process.cpuUsage(gen0);
  const cpu1 = cpuMicros(pid);
  const db = DatabaseCpu.delta(db0, (await target.database?.sample()) ?? null);
  const result = figures(run, rate, durationMs, cpu1 - cpu0, db, gen.user + gen.system, pid, [t0, t1], load, m1 - m0, tracker.frames - f0);
  const received = run.received;
  // Deliveries that still arrive after the drain (while the seq check runs) are counted here.
  late.push(() => (result.lateAfterDrain = run.received - received));
  return result;
}

async function checkSeq(target: Target, tracker: DeliveryTracker): Promise<{ seqCheck: ScenarioResult['seqCheck']; seqViolations: number | null; seqUnverified?: number }> {
  if (tracker.inlineSeq) return { seqCheck: 'inline', seqViolations: tracker.seqViolations };
  if (!target.provisioner) return { seqCheck: 'unavailable', seqViolations: null };
  // Only what arrived before the history is read: a slow dialect may still be committing and
  // delivering, and an id received after the read would look unknown.
  const snapshot = tracker.ids.map((ids) => ids.length);
  let violations = 0;
  let unverified = 0;
  for (const group of tracker.topology.groups) {
    const seqs = await target.provisioner.seqById(group.members[0]!.token, group.chatId);
    if (!seqs) return { seqCheck: 'unavailable', seqViolations: null };
    const missing = (): boolean => group.members.some((m) => tracker.ids[m.index]!.slice(0, snapshot[m.index]).some((id) => !seqs.has(id)));
    // Paging counts back from the newest message: commits during the read shift the pages, so
    // read again once when an id is missing.
    if (missing()) for (const [id, seq] of (await target.provisioner.seqById(group.members[0]!.token, group.chatId)) ?? []) seqs.set(id, seq);
    for (const m of group.members) {
      let prev = -1;
      for (const id of tracker.ids[m.index]!.slice(0, snapshot[m.index])) {
        const seq = seqs.get(id);
        if (seq === undefined) {
          unverified++;
          prev = -1;
          continue;
        }
        if (prev >= 0 && seq !== prev + 1) violations++;
        prev = seq;
      }
    }
  }
  return { seqCheck: 'history', seqViolations: violations, seqUnverified: unverified };
}

/**
 * The standard workload on one target: `users` users in groups of `groupSize`, every member
 * connected, one priming message per group (proves every subscription is live), a warm-up,
 * then `body` runs the measured batch(es).
 */
async function withLoadSession(
  scenario: string,
  targetName: string,
  config: BenchConfig,
  body: (target: Target, tracker: DeliveryTracker, connections: Connection[], result: ScenarioResult, startedAt: number) => Promise<void>,
): Promise<ScenarioResult> {
  const driver = drivers[targetName];
  const result: ScenarioResult = { scenario, target: targetName, storage: targetName === 'reference' ? 'none' : '?', kind: 'load', ok: false };
  if (!driver) return { ...result, error: `unknown target ${targetName}` };
  let target: Target | null = null;
  let connections: Connection[] = [];
  const startedAt = performance.now();
  try {
    await budget(config.scenarioBudgetMs, scenario, (async () => {
      target = await startTarget(targetName, config, false);
      result.storage = target.storage;
      result.server = target.server;
      const topology = await topologyFor(target, config.users, config.groupSize, 'b');
      if (target.provisioner) {
        await target.provisioner.provisionUsers(topology.members);
        result.groupsVia = await target.provisioner.createGroups(topology.groups, 'bench');
      }
      const tracker = new DeliveryTracker(topology, driver.inlineSeq);
      const c0 = performance.now();
      connections = await connectAll(driver, target, topology, tracker, 50);
      result.connectMs = Math.round(performance.now() - c0);
      const primed = await prime(tracker, connections);
      if (primed.lost > 0) throw new Error(`priming: ${primed.lost} of ${primed.expected} deliveries missing after 20 s (subscriptions not live?)`);
      if (config.warmupMs > 0) {
        const warm = await runOpenLoop(tracker, connections, { rate: Math.max(10, config.rate / 2), durationMs: config.warmupMs, random: seededRandom(7) });
        await tracker.drain(warm);
      }
      late = [];
      await body(target, tracker, connections, result, startedAt);
      Object.assign(result, await checkSeq(target, tracker));
      for (const settle of late) settle();
      result.stray = tracker.stray;
      result.errors = tracker.errors;
      result.errorSamples = tracker.errorSamples;
      result.ok = true;
    })());
  } catch (err) {
    result.error = (err as Error).message.split('\n')[0];
  } finally {
    for (const c of connections) c?.close();
    await (target as Target | null)?.database?.close();
    await (target as Target | null)?.proc.stop();
  }
  return result;
}

export function runFixed(scenario: string, targetName: string, config: BenchConfig): Promise<ScenarioResult> {
  return withLoadSession(scenario, targetName, config, async (target, tracker, connections, result, startedAt) => {
    let best = await measure(target, tracker, connections, config.rate, config.durationMs, seededRandom(42));
    result.attempts = 1;
    for (let i = 0; i < config.busyRetries && best.otherCores > BUSY_CORES; i++) {
      if (performance.now() - startedAt + config.durationMs + 30_000 > config.scenarioBudgetMs) break;
      const again = await measure(target, tracker, connections, config.rate, config.durationMs, seededRandom(43 + i));
      result.attempts++;
      if (again.otherCores < best.otherCores) best = again;
    }
    result.load = best;
  });
}

/** ×factor steps from startRate until p99 > limit or any loss (or the budget ends); the last clean step is the answer. */
export function runFindMax(scenario: string, targetName: string, config: BenchConfig): Promise<ScenarioResult> {
  const f = config.findMax;
  return withLoadSession(scenario, targetName, { ...config, rate: f.startRate }, async (target, tracker, connections, result) => {
    result.kind = 'find-max';
    result.steps = [];
    result.maxRateHeld = null;
    const started = performance.now();
    for (let rate = f.startRate; rate <= f.maxRate; rate = Math.round(rate * f.factor)) {
      // Leave room for the drain and the seq check inside the scenario budget.
      if (performance.now() - started + f.stepMs + 8000 > config.scenarioBudgetMs - 15_000) break;
      const step = await measure(target, tracker, connections, rate, f.stepMs, seededRandom(rate));
      result.steps.push(step);
      if (step.lost > 0 || step.duplicates > 0 || step.p99Ms > f.p99LimitMs) break;
      result.maxRateHeld = rate;
      result.load = step;
    }
  });
}

/**
 * `connections` idle authenticated connections (distinct users, no chats). RSS is read after
 * a settle delay before and after connecting; there is no debug route to force a GC, so the
 * delta includes whatever garbage has not been collected yet (said so in the report).
 */
export async function runIdle(scenario: string, targetName: string, config: BenchConfig): Promise<ScenarioResult> {
  const driver = drivers[targetName];
  const result: ScenarioResult = { scenario, target: targetName, storage: targetName === 'reference' ? 'none' : '?', kind: 'idle', ok: false };
  if (!driver?.connectIdle) return { ...result, error: `no idle client for ${targetName}` };
  let target: Target | null = null;
  const connections: Connection[] = [];
  try {
    await budget(config.scenarioBudgetMs, scenario, (async () => {
      target = await startTarget(targetName, config, true);
      result.storage = target.storage;
      result.server = target.server;
      const topology = await topologyFor(target, config.idleConnections, 10, 'i');
      const tracker = new DeliveryTracker(topology, true);
      await sleep(config.idleSettleMs);
      const before = rssBytes(target.proc.pid);
      const c0 = performance.now();
      await mapLimit(topology.members, 64, async (m) => {
        connections[m.index] = await driver.connectIdle!(target!.proc.url, m, tracker);
      });
      result.connectMs = Math.round(performance.now() - c0);
      await sleep(config.idleSettleMs);
      const after = rssBytes(target.proc.pid);
      const open = connections.filter((c) => c.open).length;
      result.idle = {
        connections: topology.members.length,
        open,
        rssBeforeMb: Number((before / 1048576).toFixed(1)),
        rssAfterMb: Number((after / 1048576).toFixed(1)),
        kbPerConnection: Number(((after - before) / 1024 / topology.members.length).toFixed(2)),
        note: `RSS after a ${config.idleSettleMs / 1000} s settle, no forced GC (the server has no GC debug route)`,
      };
      result.errors = tracker.errors;
      result.errorSamples = tracker.errorSamples;
      result.ok = open === topology.members.length;
      if (!result.ok) result.error = `${topology.members.length - open} connections closed while idle`;
    })());
  } catch (err) {
    result.error = (err as Error).message.split('\n')[0];
  } finally {
    for (const c of connections) c?.close();
    await (target as Target | null)?.database?.close();
    await (target as Target | null)?.proc.stop();
  }
  return result;
}
