import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, killProcess } from './redis-server.js';
import { waitFor } from './wait.js';

/**
 * A real 3-master Redis Cluster of a test file's own, on free local ports, in a temporary
 * directory that is removed again with every process it started. One per test file (the start
 * takes a few seconds): start it in `beforeAll`, stop it in `afterAll`.
 */
export const haveRedisCluster =
  spawnSync('redis-server', ['--version']).status === 0 && spawnSync('redis-cli', ['--version']).status === 0 && redisMajor() >= 7;

/** CI must run the cluster cases: a machine without redis-server/redis-cli ≥ 7 fails there. */
export const redisClusterEnabled = ((): boolean => {
  if (haveRedisCluster) return true;
  if (process.env['CI']) throw new Error('redis-server and redis-cli >= 7 are required in CI for the Redis Cluster suites (.ci/run installs them)');
  process.stderr.write('[tests] redis-server/redis-cli >= 7 not on PATH; Redis Cluster cases skipped.\n');
  return false;
})();

function redisMajor(): number {
  const out = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return Number(/v=(\d+)\./.exec(out)?.[1] ?? 0);
}

export interface RedisClusterNode {
  readonly port: number;
  /** The cluster bus port (set explicitly: port + 10000 may not be free, or may not exist). */
  readonly busPort: number;
  process: ChildProcess | null;
}

export interface TestRedisCluster {
  /** `REDIS_CLUSTER_NODES` for this cluster: `127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`. */
  readonly nodesEnv: string;
  /** The same as `{host, port}` seeds, for `connectRedisCluster`. */
  readonly seeds: readonly { host: string; port: number }[];
  /** Keys under `prefix` on every running node (SCAN per node, never KEYS). */
  countKeys(prefix: string): Promise<number>;
  /** Deletes every key under `prefix` on every running node. */
  deleteKeys(prefix: string): Promise<void>;
  readonly nodes: readonly RedisClusterNode[];
  /** SIGKILL one node (a crash). */
  kill(index: number): Promise<void>;
  /** Starts a killed node again on its port with its node config: it rejoins as the same master (its data is gone). */
  restart(index: number): Promise<void>;
  /** Resolves once every running node reports `cluster_state:ok`. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

export async function startRedisCluster(): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'polychat-cluster-'));
  const nodes: RedisClusterNode[] = [];
  const used = new Set<number>();
  const port = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!used.has(p)) {
        used.add(p);
        return p;
      }
    }
  };
  for (let i = 0; i < 3; i++) nodes.push({ port: await port(), busPort: await port(), process: null });

  const launch = (node: RedisClusterNode): void => {
    node.process = spawn(
      'redis-server',
      [
        '--port', String(node.port),
        '--cluster-port', String(node.busPort),
        '--bind', HOST,
        '--cluster-enabled', 'yes',
        '--cluster-config-file', join(dir, `nodes-${node.port}.conf`),
        // Short, so a killed node is noticed (and a restarted one accepted) within a test.
        '--cluster-node-timeout', '2000',
        '--save', '',
        '--appendonly', 'no',
        '--dir', dir,
      ],
      { stdio: 'ignore' },
    );
  };
  // Whatever happens to the test, no redis-server outlives the test process: on exit, and on a
  // SIGTERM/SIGINT (a cancelled or timed-out run), which is then raised again as it came.
  const killAll = (): void => {
    for (const n of nodes) if (n.process && n.process.exitCode === null) n.process.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    killAll();
    process.kill(process.pid, signal);
  };
  process.once('exit', killAll);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);

  const stop = async (): Promise<void> => {
    process.off('exit', killAll);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    for (const n of nodes) {
      await killProcess(n.process);
      n.process = null;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const waitHealthy = async (timeoutMs = 20_000): Promise<void> => {
    for (const n of nodes) {
      if (!n.process) continue;
      await waitFor(async () => (await clusterState(n.port)) === 'ok', timeoutMs, `cluster_state:ok on ${HOST}:${n.port}`);
    }
  };

  try {
    for (const n of nodes) launch(n);
    for (const n of nodes) await waitFor(async () => (await clusterState(n.port)) !== null, 10_000, `redis-server on port ${n.port}`);
    const create = spawn('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `${HOST}:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    create.stdout.on('data', (d: Buffer) => (output += d.toString()));
    create.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => create.once('exit', resolve));
    if (code !== 0) throw new Error(`redis-cli --cluster create failed (${code}): ${output.slice(-2000)}`);
    await waitHealthy();
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    nodesEnv: nodes.map((n) => `${HOST}:${n.port}`).join(','),
    seeds: nodes.map((n) => ({ host: HOST, port: n.port })),
    async countKeys(prefix) {
      let total = 0;
      for (const n of nodes) if (n.process) total += (await scanNode(n.port, prefix, false)).length;
      return total;
    },
    async deleteKeys(prefix) {
      for (const n of nodes) if (n.process) await scanNode(n.port, prefix, true);
    },
    nodes,
    async kill(index) {
      const node = nodes[index];
      if (!node) throw new Error(`no node ${index}`);
      await killProcess(node.process);
      node.process = null;
    },
    async restart(index) {
      const node = nodes[index];
      if (!node) throw new Error(`no node ${index}`);
      if (node.process) throw new Error(`node ${index} is running`);
      launch(node);
      await waitFor(async () => (await clusterState(node.port)) !== null, 10_000, `redis-server on port ${node.port}`);
    },
    waitHealthy,
    stop,
  };
}

/** The node's `cluster_state`, or null when it does not answer. */
async function clusterState(port: number): Promise<string | null> {
  const probe = new Redis(port, HOST, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 1000 });
  probe.on('error', () => {});
  try {
    await probe.connect();
    const info = (await probe.call('CLUSTER', 'INFO')) as string;
    return /cluster_state:(\w+)/.exec(info)?.[1] ?? null;
  } catch {
    return null;
  } finally {
    probe.disconnect();
  }
}

/** The keys under `prefix` held by one node (each node holds only its own slots' keys). */
async function scanNode(port: number, prefix: string, remove: boolean): Promise<string[]> {
  const client = new Redis(port, HOST, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  const found: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 500);
      cursor = next;
      found.push(...keys);
      // One DEL per key: a multi-key DEL must stay within one slot.
      if (remove) for (const k of keys) await client.del(k);
    } while (cursor !== '0');
    return found;
  } finally {
    client.disconnect();
  }
}
