import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface StartedProcess {
  readonly pid: number;
  readonly url: string;
  readonly port: number;
  /** Last lines the process printed (for error reports). */
  readonly output: string[];
  /** SIGTERM by pid, SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: Promise<number | string>;
}

export interface PolychatOptions {
  /** Extra node flags (e.g. `--cpu-prof`, `--cpu-prof-dir=/tmp/x`). */
  readonly nodeFlags?: readonly string[];
  /** Raise the child's open-file limit (idle scenarios with thousands of sockets). */
  readonly manyFiles?: boolean;
  readonly env?: Readonly<Record<string, string>>;
}

/** A free TCP port on 127.0.0.1 (bound then released; the child binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** `dist/app/main.js` when it is built and not older than `src/`, else the sources through tsx. */
export function serverEntry(): { args: string[]; label: string } {
  const dist = join(ROOT, 'dist/app/main.js');
  if (existsSync(dist) && statSync(dist).mtimeMs >= newestMtime(join(ROOT, 'src'))) return { args: [dist], label: 'dist/app/main.js' };
  return { args: ['--import', 'tsx', join(ROOT, 'src/app/main.ts')], label: 'src/app/main.ts (tsx)' };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Spawns `node <args>` through `bash -c 'ulimit …; exec node …'`: `exec` keeps the pid, so
 * /proc/<pid> is the node process itself and stopping it by pid stops exactly what we started.
 */
function spawnNode(args: readonly string[], env: NodeJS.ProcessEnv, manyFiles: boolean): ChildProcess {
  const limit = manyFiles ? 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; ' : '';
  const command = `${limit}exec ${[process.execPath, ...args].map(shellQuote).join(' ')}`;
  return spawn('bash', ['-c', command], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

const running = new Set<StartedProcess>();

/** Stops every process this module started and that still runs (Ctrl-C). */
export async function stopAllStarted(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop(5000)));
}

function track(child: ChildProcess, port: number, cleanup: () => void): StartedProcess {
  const output: string[] = [];
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim() === '') continue;
      output.push(line);
      if (output.length > 200) output.shift();
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      cleanup();
      resolve(code ?? signal ?? -1);
    }),
  );
  const pid = child.pid ?? 0;
  const started: StartedProcess = {
    pid,
    port,
    url: `http://127.0.0.1:${port}`,
    output,
    exited,
    async stop(graceMs = 12_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(started);
  void exited.then(() => running.delete(started));
  return started;
}

async function waitHealthy(proc: StartedProcess, path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedEarly: number | string | null = null;
  void proc.exited.then((code) => (exitedEarly = code));
  while (Date.now() < deadline) {
    if (exitedEarly !== null) throw new Error(`server exited with ${exitedEarly} before it was ready:\n${proc.output.slice(-20).join('\n')}`);
    try {
      const res = await fetch(`${proc.url}${path}`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await proc.stop();
  throw new Error(`server not ready after ${timeoutMs} ms:\n${proc.output.slice(-20).join('\n')}`);
}

export interface Polychat extends StartedProcess {
  readonly jwtSecret: string;
  readonly storage: string;
  readonly entry: string;
}

/**
 * The real server as a child process on 127.0.0.1 and a free port: embedded SQLite in a fresh
 * temporary DATA_DIR unless DATABASE_URL is set (REDIS_URL is passed through too), its own
 * JWT secret, the per-user send limit off, and warn-level logs (the generator floods it with
 * connections; one info line per connection would be measured too).
 */
export async function startPolychat(options: PolychatOptions = {}): Promise<Polychat> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'polychat-bench-'));
  const jwtSecret = randomBytes(32).toString('hex');
  const entry = serverEntry();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: dataDir,
    JWT_SECRET: jwtSecret,
    RATE_LIMIT_MESSAGES: '0',
    LOG_LEVEL: process.env['BENCH_LOG_LEVEL'] ?? 'warn',
    NODE_ENV: 'production',
    ...options.env,
  };
  const child = spawnNode([...(options.nodeFlags ?? []), ...entry.args], env, options.manyFiles ?? false);
  const proc = track(child, port, () => rmSync(dataDir, { recursive: true, force: true }));
  await waitHealthy(proc, '/healthz', 30_000);
  const storage = env['DATABASE_URL'] ? 'postgresql' : 'sqlite';
  const bus = env['REDIS_URL'] ? '+redis' : '';
  return { ...proc, stop: proc.stop, jwtSecret, storage: `${storage}${bus}`, entry: entry.label };
}

/** The reference servers the bench can run next to polychat, by target name. */
export const REFERENCE_SERVERS = {
  /** Raw `ws` fan-out, nothing stored. */
  reference: 'bench/reference-server.ts',
  /** Socket.IO, one awaited INSERT per message before the broadcast. */
  naive: 'bench/naive-reference-server.ts',
  /** Raw `ws`, every message stored with group commit before the broadcast. */
  'group-commit': 'bench/group-commit-reference-server.ts',
} as const;

export type ReferenceName = keyof typeof REFERENCE_SERVERS;

export function isReference(target: string): target is ReferenceName {
  return Object.hasOwn(REFERENCE_SERVERS, target);
}

export interface Reference extends StartedProcess {
  /** `none` for the raw reference; else the database it stores into. */
  readonly storage: string;
  readonly script: string;
}

/**
 * A reference server as a child process (same generator, no auth). The persisting ones use the
 * bench's storage: DATABASE_URL when set (they create and drop their own `ref_*` tables), else
 * SQLite in a fresh temporary DATA_DIR, removed when the process exits.
 */
export async function startReference(name: ReferenceName = 'reference', options: { manyFiles?: boolean; nodeFlags?: readonly string[] } = {}): Promise<Reference> {
  const port = await freePort();
  const script = REFERENCE_SERVERS[name];
  const persists = name !== 'reference';
  const dataDir = persists ? mkdtempSync(join(tmpdir(), 'polychat-bench-ref-')) : null;
  const env: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', PORT: String(port), ...(dataDir ? { DATA_DIR: dataDir } : {}) };
  const child = spawnNode([...(options.nodeFlags ?? []), '--import', 'tsx', join(ROOT, script)], env, options.manyFiles ?? false);
  const proc = track(child, port, () => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  await waitHealthy(proc, '/healthz', 20_000);
  const storage = !persists ? 'none' : env['DATABASE_URL'] ? 'postgresql' : 'sqlite';
  return { ...proc, stop: proc.stop, storage, script };
}
