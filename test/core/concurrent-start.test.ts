import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 16.8: `npm start` builds first; two started together in one checkout (two instances)
 * raced on `dist/` and one crashed (`does not provide an export named …`). Here two real
 * `npm start` run at once in a fresh copy of the checkout (no `dist/`), each on an ephemeral
 * port with its own data, and both must come up; then again after a source change.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COPIED = ['src', 'web', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
}

/** `npm start` in `cwd`, in its own process group; resolves with its address once it listens. */
function npmStart(cwd: string, dataDir: string, output: string[]): Promise<Started> {
  const child = spawn('npm', ['start', '--silent'], {
    cwd,
    detached: true,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info', JWT_SECRET: 'concurrent-start-secret-0123456789abcdef' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        output.push(line);
        try {
          const parsed = JSON.parse(line) as { msg?: string; address?: string };
          if (parsed.msg === 'chat server listening' && parsed.address) resolve({ child, url: parsed.address.replace('localhost', '127.0.0.1') });
        } catch {
          // tsc or npm output
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`npm start exited with ${code ?? signal} before listening:\n${output.join('\n')}`)));
  });
}

const children: ChildProcess[] = [];

/** Ends a started `npm start` and the server under it (its own process group, by its id). */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
}

describe('two `npm start` at once in one checkout', () => {
  let checkout: string;
  beforeAll(() => {
    checkout = mkdtempSync(join(tmpdir(), 'chat-checkout-'));
    for (const entry of COPIED) cpSync(join(ROOT, entry), join(checkout, entry), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir');
  });
  afterAll(async () => {
    await Promise.all(children.map(stop));
    rmSync(checkout, { recursive: true, force: true });
  });

  async function bothComeUp(): Promise<void> {
    const outputs: string[][] = [[], []];
    const started = await Promise.all(outputs.map((out, i) => npmStart(checkout, join(checkout, `data-${i}`), out)));
    try {
      expect(started[0]!.url).not.toBe(started[1]!.url);
      for (const s of started) {
        const res = await fetch(`${s.url}/healthz`);
        expect(res.status).toBe(200);
        // The web client is found from the built code too.
        expect((await fetch(`${s.url}/`)).status).toBe(200);
      }
      const all = outputs.flat().join('\n');
      expect(all).not.toMatch(/does not provide an export|ERR_MODULE_NOT_FOUND|SyntaxError/);
    } finally {
      await Promise.all(started.map((s) => stop(s.child)));
    }
  }

  it('from a fresh checkout (no dist/): both build-and-start, one build, both listen', async () => {
    expect(existsSync(join(checkout, 'dist'))).toBe(false);
    await bothComeUp();
    expect(readFileSync(join(checkout, 'dist', '.build-hash'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(existsSync(join(checkout, '.build-lock'))).toBe(false);
  }, 240_000);

  it('after a source change: rebuilt once, both come up again; unchanged sources are not rebuilt', async () => {
    const before = readFileSync(join(checkout, 'dist', '.build-hash'), 'utf8');
    appendFileSync(join(checkout, 'src', 'app', 'main.ts'), '\nexport const changedByConcurrentStartTest = true;\n');
    await bothComeUp();
    const after = readFileSync(join(checkout, 'dist', '.build-hash'), 'utf8');
    expect(after).not.toBe(before);
    expect(readFileSync(join(checkout, 'dist', 'app', 'main.js'), 'utf8')).toContain('changedByConcurrentStartTest');
    await bothComeUp();
    expect(readFileSync(join(checkout, 'dist', '.build-hash'), 'utf8')).toBe(after);
  }, 240_000);
});
