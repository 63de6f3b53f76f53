#!/usr/bin/env node
// `npm run build` (and so `npm start`): compiles src/ into dist/ only when the sources changed,
// safely when several run at once in one checkout (two `npm start` for two instances).
// - A fingerprint of the inputs is kept in dist/.build-hash: an up-to-date dist/ is not touched.
// - One builder at a time (a lock directory; a dead holder's lock is taken over); the others
//   wait, then find dist/ up to date.
// - tsc writes into a fresh folder that replaces dist/ only once it is complete, so no process
//   ever imports a half-written dist/.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const stamp = join(dist, '.build-hash');
const lock = join(root, '.build-lock');
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
const LOCK_WAIT_MS = 10 * 60 * 1000;

function files(path) {
  if (!existsSync(path)) return [];
  try {
    return readdirSync(path, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .flatMap((e) => (e.isDirectory() ? files(join(path, e.name)) : [join(path, e.name)]));
  } catch {
    return [path]; // a file
  }
}

function fingerprint() {
  const hash = createHash('sha256');
  for (const input of INPUTS) {
    for (const file of files(join(root, input))) {
      hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
    }
  }
  return hash.digest('hex');
}

const upToDate = (want) => existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want;

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function lockAgeMs() {
  try {
    return Date.now() - statSync(lock).mtimeMs;
  } catch {
    return 0;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function acquire() {
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    } catch {
      // just created by another builder, pid not written yet
    }
    const dead = Number.isInteger(holder) && holder > 0 ? !alive(holder) : lockAgeMs() > 10_000; // died before writing its pid
    if (dead) {
      rmSync(lock, { recursive: true, force: true }); // its holder died mid-build
      continue;
    }
    if (Date.now() - started > LOCK_WAIT_MS) throw new Error(`another build has held ${lock} for too long; remove it if no build is running`);
    await sleep(200);
  }
}

const release = () => rmSync(lock, { recursive: true, force: true });

async function main() {
  const want = fingerprint();
  if (upToDate(want)) return;
  await acquire();
  try {
    const now = fingerprint(); // the sources as they are once we may build
    if (upToDate(now)) return; // built by the holder we waited for
    const tmp = join(root, `.dist-tmp-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', tmp], { stdio: 'inherit', cwd: root });
    if (result.status !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      process.exitCode = result.status ?? 1;
      return;
    }
    writeFileSync(join(tmp, '.build-hash'), `${now}\n`);
    // Two renames: dist/ is missing only between them, and only a process that did not wait
    // for this lock (one that started on an older dist/ while the sources changed) could look.
    const old = join(root, `.dist-old-${process.pid}`);
    if (existsSync(dist)) renameSync(dist, old);
    renameSync(tmp, dist);
    rmSync(old, { recursive: true, force: true });
  } finally {
    release();
  }
}

await main();
