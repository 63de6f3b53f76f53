import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type WebSocketRoute } from 'playwright-core';
import { describe, it } from 'vitest';
import type { TestServer } from '../support/test-server.js';

/**
 * Shared pieces of the web client suites: Debian's Chromium, people as browser contexts (one
 * per person, with a switch to cut their network), and the waits the tests use.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const SHOTS = join('test-results', 'web');
export const PASSWORD = 'correct horse battery';
// A 1×1 PNG, for group pictures.
export const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/** Without Chromium: skipped locally, a failing test in CI (CI=true), where it must run. */
export function requireChromium(): void {
  if (hasChromium) return;
  if (process.env['CI'] === 'true') {
    describe('web client', () => {
      it('needs Chromium', () => {
        throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium) to run the web client tests`);
      });
    });
  } else {
    process.stderr.write(`\n[tests] ${CHROMIUM} not found: skipping the web client tests (apt-get install -y chromium to run them).\n`);
  }
}

export function launch(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** One person: a browser context with its own storage, and control over its network. */
export interface Person {
  readonly ctx: BrowserContext;
  readonly page: Page;
  /** While true, the live socket is refused (HTTP follows `ctx.setOffline`). */
  refuseSockets: boolean;
  /** While true, `message` events from the server are swallowed (a send whose echo is lost). */
  dropMessageEvents: boolean;
  /** Cuts the open live sockets (the client sees a drop). */
  cutSockets(): Promise<void>;
}

export async function person(browser: Browser, errors: string[], who: string, options: { initScript?: string } = {}): Promise<Person> {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const sockets = new Set<WebSocketRoute>();
  const p: Person = {
    ctx,
    page: null as unknown as Page,
    refuseSockets: false,
    dropMessageEvents: false,
    async cutSockets() {
      for (const ws of [...sockets]) await ws.close({ code: 4001, reason: 'network drop' });
    },
  };
  await ctx.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
    if (p.refuseSockets) {
      ws.close({ code: 4000, reason: 'offline' });
      return;
    }
    const server = ws.connectToServer();
    sockets.add(ws);
    // Forwarded by hand, so that frames can be dropped.
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => {
      if (p.dropMessageEvents && typeof m === 'string' && m.startsWith('{"type":"message"')) return;
      ws.send(m);
    });
    ws.onClose(() => {
      sockets.delete(ws);
      server.close();
    });
    server.onClose(() => {
      sockets.delete(ws);
      ws.close();
    });
  });
  if (options.initScript) await ctx.addInitScript(options.initScript);
  const page = await ctx.newPage();
  watch(page, errors, who);
  (p as { page: Page }).page = page;
  return p;
}

/** Collects script errors; answers native confirms with yes, recording their text. */
export function watch(page: Page, errors: string[], who: string, confirms: string[] = []): void {
  page.on('dialog', (d) => {
    confirms.push(d.message());
    void d.accept();
  });
  page.on('pageerror', (err) => errors.push(`${who}: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource|WebSocket connection/.test(msg.text())) errors.push(`${who}: ${msg.text()}`);
    if (process.env['WEB_TEST_DEBUG']) process.stderr.write(`[${who}] ${msg.type()}: ${msg.text()}\n`);
  });
}

/** Waits for an element matching `selector` whose text contains `text`. */
export async function see(page: Page, selector: string, text: string, timeout = 10_000): Promise<void> {
  await page.locator(selector, { hasText: text }).first().waitFor({ state: 'visible', timeout });
}

export async function register(t: TestServer, page: Page, username: string, name: string): Promise<void> {
  await page.goto(t.url);
  await page.getByRole('tab', { name: 'Create account' }).click();
  const form = page.locator('#register-form');
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Display name').fill(name);
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Create account' }).click();
  await see(page, '#me-name', name);
}

export async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message text').fill(text);
  await page.getByLabel('Message text').press('Enter');
}

export async function openChatByName(page: Page, name: string): Promise<void> {
  await page.locator('#chat-list .chat-item', { has: page.locator('.chat-item-name', { hasText: new RegExp(`^${name}$`) }) }).click();
  await see(page, '#chat-name', name);
}

export const messageTexts = (page: Page): Promise<string[]> => page.locator('#messages .msg:not(.pending) .text').allTextContents();
