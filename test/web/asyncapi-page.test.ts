import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/test-server.js';

/**
 * `/docs/realtime` in headless Chromium: the AsyncAPI viewer is served by this server, renders
 * every dialect's channels, and nothing is fetched from anywhere else. Skipped locally without
 * Debian's chromium, failing in CI (CI=true), like the web client tests.
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);

if (!hasChromium && process.env['CI'] === 'true') {
  describe('realtime docs page', () => {
    it('needs Chromium', () => {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium) to run the browser tests`);
    });
  });
}

describe.skipIf(!hasChromium)('/docs/realtime in Chromium', () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  const elsewhere: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    t = await startServer('sqlite');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    // Any request off this server is refused and remembered: the page must work offline.
    await page.route('**/*', (route) => {
      if (route.request().url().startsWith(t.url)) return route.continue();
      elsewhere.push(route.request().url());
      return route.abort();
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('renders the channel of every realtime mount point, with nothing fetched elsewhere', { timeout: 120_000 }, async () => {
    await page.goto(`${t.url}/docs/realtime`);
    // Wide enough for the sidebar (narrower, it collapses behind a menu button).
    await page.getByRole('heading', { name: /polychat realtime API/ }).last().waitFor({ timeout: 75_000 });
    const text = await page.locator('#asyncapi').innerText();
    // A channel per mount point; Socket.IO events are messages of the `/` namespace channel.
    for (const address of ['/api/v1/ws', '/api/v1/chat/{id}', '/api/v1/group/{id}', '/api/v1/main', '/ws/chat/{chat_id}/', '/ws-chat', '/app/chat/{chatId}/sendMessage', '/app/chat/{chatId}/typing', '/app/chat/{chatId}/loadHistory', '/topic/chat/{chatId}', '/user/queue/notifications', '/user/queue/history', 'new_message', 'send_message']) {
      expect(text, address).toContain(address);
    }
    // The sidebar lists the operations grouped by dialect.
    for (const dialect of ['hub', 'rooms', 'channels', 'stomp', 'socketio']) await expect(page.locator('.sidebar').getByText(dialect, { exact: true }).first().isVisible()).resolves.toBe(true);
    expect(pageErrors).toEqual([]);
    expect(elsewhere).toEqual([]);
  });
});
