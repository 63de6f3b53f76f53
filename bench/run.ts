/**
 * `npm run bench` — load benchmark of polychat against three reference servers (issues 9, 14):
 * raw `ws` with nothing stored, the naive Socket.IO + one INSERT per message design, and raw
 * `ws` + group commit, the last two on the same storage as polychat.
 *
 *   npm run bench                                  the standard set (see SCENARIOS)
 *   npm run bench -- --scenario fixed --scenario stomp
 *   npm run bench -- --find-max                    highest rate with p99 ≤ 100 ms and no loss (hub)
 *   npm run bench -- --find-max --scenario channels
 *   npm run bench -- --quick                       small numbers, a smoke run
 *   npm run bench -- --scenario search             search over 1 000 000 stored messages (--quick: 50 000)
 *   DATABASE_URL=postgres://… npm run bench        PostgreSQL instead of a temp SQLite (REDIS_URL too)
 *   npm run bench -- --scenario big-group          one 10 000-member group, 200 online, 50 msg/s (issue 15)
 *   npm run bench -- --scenario storm              5000 clients dropped at once, back within 5 s, catching up by seq
 *   npm run bench -- --instances 3                 the standard workload over 3 processes on PostgreSQL + Redis
 *   npm run bench -- --instances 3 --redis-cluster … on PostgreSQL + a 3-master Redis Cluster started for the run
 *
 * Other flags: --rate N, --duration S, --users N, --idle-connections N,
 * --references raw,naive,group-commit (which to run; all by default), --no-reference (none),
 * --profile DIR (node --cpu-prof of the server into DIR; keep it outside the repository),
 * --wait-quiet S (before each scenario wait up to S s until other processes use < 0.3 cores),
 * --busy-retries N (re-measure a fixed-rate batch disturbed by other processes, keep the quietest).
 * Prints one table, then one JSON line per scenario.
 */
import { cpus, totalmem } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { compare, findMaxTable, idleTable, loadTable, notes, REFERENCE_LABELS, type ReferenceResults, type Reported } from './report.js';
import { runFindMax, runFixed, runIdle, type BenchConfig, type ScenarioResult } from './scenarios.js';
import { machineBusyCores } from './proc-stats.js';
import { runSearchBench } from './search-scenario.js';
import { runBigGroup } from './big-group-scenario.js';
import { runStorm } from './storm-scenario.js';
import { redisClusterBus, runInstances, singleRedis } from './instances-scenario.js';
import { bigGroupTable, instancesTable, stormTable } from './scale-report.js';
import { isReference, REFERENCE_SERVERS, serverEntry, stopAllStarted, type ReferenceName } from './server-process.js';

const LOAD_SCENARIOS: Record<string, string> = {
  fixed: 'hub',
  hub: 'hub',
  channels: 'channels',
  rooms: 'rooms',
  stomp: 'stomp',
  socketio: 'socketio',
  reference: 'reference',
  naive: 'naive',
  'group-commit': 'group-commit',
};
const ALL_REFERENCES = Object.keys(REFERENCE_SERVERS) as ReferenceName[];
const BY_LABEL = new Map(ALL_REFERENCES.map((name) => [REFERENCE_LABELS[name], name]));
const IDLE_SCENARIOS: Record<string, string> = { idle: 'hub', 'idle-socketio': 'socketio' };
/** Issue 15's scenarios: their own provisioning, clients and tables (not in the default set). */
const SCALE_SCENARIOS = new Set(['big-group', 'storm']);
/** `hub` is the same run as `fixed`; the default set runs it once, as `fixed`. */
const DEFAULT_SET = ['fixed', 'channels', 'rooms', 'stomp', 'socketio', 'idle', 'idle-socketio'];

interface Args {
  scenarios: string[];
  findMax: boolean;
  quick: boolean;
  /** The references measured next to polychat, in this order. */
  references: ReferenceName[];
  rate?: number;
  durationS?: number;
  users?: number;
  idleConnections?: number;
  profileDir: string | null;
  waitQuietS: number;
  busyRetries: number;
  /** `--instances N`: the standard workload over N server processes (PostgreSQL + a bus). */
  instances: number;
  redisCluster: boolean;
}

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write(
    `usage: npm run bench -- [--scenario <${[...Object.keys(LOAD_SCENARIOS), ...Object.keys(IDLE_SCENARIOS), 'search', ...SCALE_SCENARIOS].join('|')}>]… [--find-max] [--quick]\n` +
      '       [--rate N] [--duration S] [--users N] [--idle-connections N] [--references raw,naive,group-commit] [--no-reference]\n' +
      '       [--profile DIR] [--wait-quiet S] [--busy-retries N] [--instances N [--redis-cluster]]\n',
  );
  process.exit(message ? 2 : 0);
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { scenarios: [], findMax: false, quick: false, references: [...ALL_REFERENCES], profileDir: null, waitQuietS: 0, busyRetries: 0, instances: 0, redisCluster: false };
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!v || !Number.isFinite(n) || n <= 0) usage(`${flag} needs a positive number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--scenario': {
        const name = value();
        if (!name || !(name in LOAD_SCENARIOS || name in IDLE_SCENARIOS || name === 'search' || SCALE_SCENARIOS.has(name))) usage(`unknown scenario '${name}'`);
        args.scenarios.push(name);
        break;
      }
      case '--find-max':
        args.findMax = true;
        break;
      case '--quick':
        args.quick = true;
        break;
      case '--no-reference':
        args.references = [];
        break;
      case '--references': {
        const list = (value() ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '');
        const unknown = list.filter((n) => !BY_LABEL.has(n));
        if (list.length === 0 || unknown.length) usage(`--references takes a comma-separated list of ${[...BY_LABEL.keys()].join(', ')}${unknown.length ? ` (not: ${unknown.join(', ')})` : ''}`);
        args.references = [...new Set(list.map((n) => BY_LABEL.get(n)!))];
        break;
      }
      case '--rate':
        args.rate = num(flag, value());
        break;
      case '--duration':
        args.durationS = num(flag, value());
        break;
      case '--users':
        args.users = Math.round(num(flag, value()));
        break;
      case '--idle-connections':
        args.idleConnections = Math.round(num(flag, value()));
        break;
      case '--busy-retries':
        args.busyRetries = Math.round(num(flag, value()));
        break;
      case '--instances':
        args.instances = Math.round(num(flag, value()));
        if (args.instances < 2) usage('--instances needs at least 2');
        break;
      case '--redis-cluster':
        args.redisCluster = true;
        break;
      case '--wait-quiet':
        args.waitQuietS = num(flag, value());
        break;
      case '--profile': {
        const dir = value();
        if (!dir) usage('--profile needs a directory');
        args.profileDir = isAbsolute(dir) ? dir : resolve(dir);
        break;
      }
      case '--help':
      case '-h':
        usage();
      // falls through (usage exits)
      default:
        usage(`unknown argument '${a}'`);
    }
  }
  return args;
}

function configFrom(args: Args): BenchConfig {
  const q = args.quick;
  const durationMs = Math.min(50, args.durationS ?? (q ? 3 : 10)) * 1000;
  return {
    users: args.users ?? (q ? 100 : 1000),
    groupSize: 10,
    rate: args.rate ?? (q ? 200 : 2000),
    durationMs,
    warmupMs: q ? 1000 : 2000,
    idleConnections: args.idleConnections ?? (q ? 1000 : 10_000),
    idleSettleMs: q ? 1000 : 5000,
    findMax: { startRate: q ? 200 : 1000, factor: 1.5, stepMs: q ? 2000 : 4000, p99LimitMs: 100, maxRate: 100_000 },
    scenarioBudgetMs: 60_000,
    profileDir: args.profileDir,
    busyRetries: args.busyRetries,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = configFrom(args);
  if (args.instances > 0) {
    await runInstancesCommand(args, config);
    return;
  }
  const chosen = args.scenarios.length ? [...new Set(args.scenarios)] : args.findMax ? ['fixed'] : DEFAULT_SET;
  const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);
  const storage = process.env['DATABASE_URL'] ? 'postgresql' : 'sqlite (temp DATA_DIR)';
  log(`${new Date().toISOString()} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · ${(totalmem() / 2 ** 30).toFixed(1)} GiB · node ${process.version}`);
  log(`server: ${serverEntry().label} · storage ${storage}${process.env['REDIS_URL'] ? ' + redis bus' : ''} · ${config.users} users in groups of ${config.groupSize} · ${config.rate} msg/s × ${config.durationMs / 1000} s`);

  const standard = config.users === 1000 && config.groupSize === 10 && config.rate === 2000 && config.idleConnections === 10_000;
  const references = new Map<string, ScenarioResult>();
  /** The selected references for this kind of scenario, each measured once per run (idle: the raw one only). */
  const referencesFor = async (kind: 'load' | 'find-max' | 'idle'): Promise<ReferenceResults> => {
    const out: ReferenceResults = {};
    for (const name of args.references) {
      if (kind === 'idle' && name !== 'reference') continue;
      const key = `${kind}:${name}`;
      if (!references.has(key)) {
        await quiet();
        log(`${name} reference (${kind}) …`);
        const r = kind === 'idle' ? await runIdle('idle', name, config) : kind === 'find-max' ? await runFindMax('find-max', name, config) : await runFixed('fixed', name, config);
        references.set(key, r);
        log(`${name} reference (${kind}) done${r.ok ? '' : `: FAILED ${r.error}`}`);
      }
      out[name] = references.get(key);
    }
    return out;
  };

  /** The machine is shared: optionally wait (bounded) until other processes use < 0.3 cores. */
  const quiet = async (): Promise<void> => {
    if (args.waitQuietS <= 0) return;
    const until = Date.now() + args.waitQuietS * 1000;
    let busy = await machineBusyCores();
    while (busy > 0.3 && Date.now() < until) {
      log(`machine busy (${busy.toFixed(2)} cores used by others); waiting …`);
      busy = await machineBusyCores(2000);
    }
  };

  const reported: Reported[] = [];
  let searchOk = true;
  for (const name of chosen) {
    await quiet();
    if (SCALE_SCENARIOS.has(name)) {
      const ok = await runScaleScenario(name, args, config, log);
      searchOk = ok && searchOk;
      continue;
    }
    if (name === 'search') {
      // Its own corpus and table (bench/search-scenario.ts); not in the default set.
      const ran = await runSearchBench({ quick: args.quick, log }).catch((err: unknown) => {
        log(`search FAILED: ${err instanceof Error ? err.message : String(err)}`);
        return false;
      });
      searchOk = ran && searchOk;
      continue;
    }
    if (name in IDLE_SCENARIOS) {
      const refs = await referencesFor('idle');
      log(`${name} …`);
      reported.push(compare(await runIdle(name, IDLE_SCENARIOS[name]!, config), refs, standard));
    } else if (args.findMax) {
      const target = LOAD_SCENARIOS[name]!;
      const refs = isReference(target) ? {} : await referencesFor('find-max');
      log(`find-max ${target} …`);
      reported.push(compare(await runFindMax('find-max', target, config), refs, standard));
    } else {
      const target = LOAD_SCENARIOS[name]!;
      const refs = isReference(target) ? {} : await referencesFor('load');
      log(`${name} (${target}) …`);
      reported.push(compare(await runFixed(name, target, config), refs, standard));
    }
    const last = reported[reported.length - 1]!;
    log(`${last.scenario} ${last.target} done${last.ok ? '' : `: FAILED ${last.error}`}`);
  }
  const all = [...[...references.values()].map((r) => compare(r, {}, standard)), ...reported];
  const tables = [loadTable(all), findMaxTable(all), idleTable(all)].filter((t) => t !== '');
  process.stdout.write(`\n${tables.join('\n\n')}\n\n`);
  for (const line of notes(all)) process.stdout.write(`- ${line}\n`);
  process.stdout.write('\n');
  for (const r of all) process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), ...r })}\n`);
  process.exitCode = all.every((r) => r.ok) && searchOk ? 0 : 1;
}

/**
 * big-group / storm: their own table and JSON line. big-group runs the standard `fixed` hub
 * workload first (no references), so the CPU per delivery is printed beside the standard one's.
 */
async function runScaleScenario(name: string, args: Args, config: BenchConfig, log: (line: string) => void): Promise<boolean> {
  if (name === 'storm') {
    log('storm …');
    const r = await runStorm({ quick: args.quick, log, profileDir: args.profileDir, ...(args.users ? { clients: args.users } : {}) });
    process.stdout.write(`\n${stormTable(r)}\n\n${JSON.stringify({ at: new Date().toISOString(), ...r })}\n`);
    return r.ok;
  }
  log('big-group: the standard workload first, for its CPU per delivery …');
  const standard = await runFixed('fixed', 'hub', { ...config, profileDir: null });
  log('big-group …');
  const r = await runBigGroup({ quick: args.quick, log, profileDir: args.profileDir });
  process.stdout.write(`\n${bigGroupTable(r, standard, config.groupSize)}\n\n${JSON.stringify({ at: new Date().toISOString(), ...r })}\n`);
  return r.ok && standard.ok;
}

async function runInstancesCommand(args: Args, config: BenchConfig): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);
  const busLabel = args.redisCluster ? 'Redis Cluster (3 masters, started for this run)' : 'Redis';
  log(`instances ${args.instances} · ${config.users} users in groups of ${config.groupSize} · ${config.rate} msg/s × ${config.durationMs / 1000} s · PostgreSQL + ${busLabel}`);
  const r = await runInstances(config, { instances: args.instances, bus: () => (args.redisCluster ? redisClusterBus() : singleRedis()), log });
  process.stdout.write(`\n${instancesTable(r)}\n\n${JSON.stringify({ at: new Date().toISOString(), ...r })}\n`);
  process.exitCode = r.ok ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`[bench] ${signal}: stopping the servers it started\n`);
    void stopAllStarted().finally(() => process.exit(130));
  });
}

await main();
