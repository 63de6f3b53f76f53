import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where the browser tests expect Debian's Chromium (driven by playwright-core, which ships no browser). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Makes `npm test` work on a fresh Debian/Ubuntu machine by itself: when Chromium is missing and
 * we may install packages (root with apt-get), install Debian's `chromium` package once. Returns
 * why it could not otherwise. Nothing is downloaded by a tool of its own: only the OS package manager.
 */
export async function ensureChromium(log: (line: string) => void): Promise<{ ok: boolean; reason: string }> {
  if (existsSync(CHROMIUM)) return { ok: true, reason: '' };
  if (process.getuid?.() !== 0) return { ok: false, reason: `${CHROMIUM} is missing and installing it needs root: run \`sudo apt-get install -y chromium\`` };
  if (!existsSync('/usr/bin/apt-get')) return { ok: false, reason: `${CHROMIUM} is missing and there is no apt-get to install it with: install Chromium at ${CHROMIUM}` };
  log(`[tests] ${CHROMIUM} is missing: installing Debian's chromium package (apt-get, once)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await run('apt-get', ['update', '-qq'], { env, maxBuffer: 64 * 1024 * 1024 });
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { env, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    return { ok: false, reason: `apt-get install chromium failed: ${(err as Error).message.split('\n')[0]}` };
  }
  return existsSync(CHROMIUM) ? { ok: true, reason: '' } : { ok: false, reason: `apt-get installed chromium but ${CHROMIUM} is still missing` };
}
