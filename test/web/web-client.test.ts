import { join } from 'node:path';
import type { Browser, BrowserContext, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../support/test-server.js';
import { hasChromium, launch, messageTexts, openChatByName, PNG, register as registerIn, requireChromium, see, send, SHOTS, watch } from './web-support.js';

/**
 * The web client at `/`, end to end in headless Chromium: two browser contexts are two people.
 * Needs Debian's chromium at /usr/bin/chromium; without it the suite is skipped locally and
 * fails in CI (CI=true), where it must run. More in web-client-reading.test.ts.
 */
requireChromium();

describe.skipIf(!hasChromium)('web client in Chromium', () => {
  let t: TestServer;
  let browser: Browser;
  let ctxA: BrowserContext;
  let ctxB: BrowserContext;
  let a: Page;
  let b: Page;
  const run = `${process.pid}${Date.now() % 100000}`;
  const alice = `alice${run}`;
  const bob = `bob${run}`;
  let carol: TestUser;
  let step = 0;
  const register = (page: Page, username: string, name: string): Promise<void> => registerIn(t, page, username, name);
  const pageErrors: string[] = [];

  // Network control for Bob: while `bobOffline`, his HTTP fails and his live socket is refused.
  let bobOffline = false;
  const bobSockets = new Set<{ page: WebSocketRoute; server: WebSocketRoute }>();

  const shot = async (page: Page, name: string): Promise<void> => {
    step += 1;
    await page.screenshot({ path: join(SHOTS, `${String(step).padStart(2, '0')}-${name}.png`) });
  };

  beforeAll(async () => {
    t = await startServer('sqlite');
    browser = await launch();
    ctxA = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    ctxB = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    await ctxB.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
      if (bobOffline) {
        ws.close({ code: 4000, reason: 'offline' });
        return;
      }
      const server = ws.connectToServer();
      const pair = { page: ws, server };
      bobSockets.add(pair);
      ws.onClose(() => {
        bobSockets.delete(pair);
        server.close();
      });
      server.onClose(() => {
        bobSockets.delete(pair);
        ws.close();
      });
    });
    a = await ctxA.newPage();
    b = await ctxB.newPage();
    // "Remove …?" and "Leave this group?" are native confirms: watch says yes.
    watch(a, pageErrors, 'alice');
    watch(b, pageErrors, 'bob');
    carol = await registerUser(t, `carol${run}`);
  }, 60_000);

  afterEach(async ({ task }) => {
    if (task.result?.state !== 'fail') return;
    const name = task.name.replace(/\W+/g, '-').slice(0, 40);
    await a?.screenshot({ path: join(SHOTS, `failed-${name}-alice.png`) }).catch(() => {});
    await b?.screenshot({ path: join(SHOTS, `failed-${name}-bob.png`) }).catch(() => {});
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('serves the client at / without shadowing the APIs', async () => {
    const page = await fetch(`${t.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('<script type="module" src="/js/main.js">');
    expect((await fetch(`${t.url}/js/main.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${t.url}/api/chats`)).status).toBe(401);
    expect((await fetch(`${t.url}/openapi.json`)).status).toBe(200);
    expect((await fetch(`${t.url}/docs`)).status).toBeLessThan(400);
    expect((await fetch(`${t.url}/uploads/nothing-here.png`)).status).toBe(404);
    expect((await fetch(`${t.url}/no-such-page`)).status).toBe(404);
  });

  it('registers two people in two windows', async () => {
    await register(a, alice, 'Alice');
    await register(b, bob, 'Bob');
    await see(a, '#empty-list', 'No chats yet');
    await shot(a, 'registered');
    // Every control, dialogs included, has an accessible name (aria-label, a <label>, or its text).
    const unnamed = await a.evaluate(`[...document.querySelectorAll('button, input, textarea, select')]
      .filter((el) => !(el.getAttribute('aria-label') || (el.labels && el.labels.length && el.labels[0].textContent.trim()) || (el.tagName === 'BUTTON' && el.textContent.trim())))
      .map((el) => el.outerHTML)`);
    expect(unnamed).toEqual([]);
  });

  it('starts a private chat by username and exchanges messages both ways, with read state', async () => {
    await a.getByRole('button', { name: 'Start a private chat' }).click();
    await a.getByLabel('Username of the person to chat with').fill(bob);
    await a.getByRole('button', { name: 'Start chat' }).click();
    await see(a, '#chat-name', 'Bob');
    await see(a, '#chat-status', 'online');
    await send(a, 'Hello Bob!');
    await see(a, '#messages .msg.mine', 'Hello Bob!');
    await a.locator('#messages .msg.mine .ticks[aria-label="Sent"]').first().waitFor();
    await shot(a, 'alice-sent');

    // Bob's list gets the new chat live, with an unread badge and Alice online.
    await see(b, '#chat-list .chat-item', 'Alice');
    await see(b, '#chat-list .badge', '1');
    await b.locator('#chat-list .chat-item .dot.online').first().waitFor();
    await shot(b, 'bob-list-unread');
    await openChatByName(b, 'Alice');
    await see(b, '#messages .msg.theirs', 'Hello Bob!');
    // Seen: the badge goes (the read mark waits for the newest message to be on screen).
    await b.locator('#chat-list .badge').waitFor({ state: 'detached' });

    // Bob opened it: Alice's message turns read (✓✓).
    await a.locator('#messages .msg.mine .ticks.read[aria-label="Read"]').first().waitFor();
    await shot(a, 'alice-read-receipt');

    await send(b, 'Hi Alice, how are you?');
    await see(a, '#messages .msg.theirs', 'Hi Alice, how are you?');
    await see(b, '#messages .msg.mine', 'Hi Alice, how are you?');
    await b.locator('#messages .msg.mine .ticks.read').first().waitFor();
    await shot(b, 'bob-replied');
  });

  it('shows the typing indicator while the other person types', async () => {
    await b.getByLabel('Message text').pressSequentially('I am wri', { delay: 20 });
    await see(a, '#typing', 'Bob is typing…');
    await see(a, '#chat-list .chat-item-preview.is-typing', 'Bob is typing…');
    await shot(a, 'alice-sees-typing');
    await b.getByLabel('Message text').pressSequentially('ting', { delay: 20 });
    await b.getByLabel('Message text').press('Enter');
    await see(a, '#messages .msg.theirs', 'I am writing');
    await a.waitForFunction("document.getElementById('typing').textContent === ''");
  });

  it('keeps the history across a reload', async () => {
    await b.reload();
    await see(b, '#me-name', 'Bob');
    await see(b, '#chat-name', 'Alice');
    await see(b, '#messages .msg', 'I am writing');
    expect(await messageTexts(b)).toEqual(['Hello Bob!', 'Hi Alice, how are you?', 'I am writing']);
    // Read state survives the reload too: both of Bob's messages were read by Alice.
    await b.locator('#messages .msg.mine .ticks.read').nth(1).waitFor();
    expect(await b.locator('#messages .msg.mine .ticks:not(.read)').count()).toBe(0);
    await shot(b, 'bob-after-reload');
  });

  it('catches up after a network drop without losing or repeating a message', async () => {
    await b.locator('#conn-status').waitFor({ state: 'hidden' });
    // Drop Bob's network: HTTP fails, the live socket is cut and refused until he is back.
    bobOffline = true;
    await ctxB.setOffline(true);
    for (const pair of [...bobSockets]) await pair.page.close({ code: 4001, reason: 'network drop' });
    await see(b, '#conn-status', 'You are offline');
    await shot(b, 'bob-offline');

    for (const text of ['While you were away 1', 'While you were away 2', 'While you were away 3']) await send(a, text);
    // One more straight through the core, as another dialect would send it.
    const chatId = (await a.evaluate('window.polychat.state.openId')) as string;
    const aliceId = (await api(t, null, 'POST', '/auth/login', { username: alice, password: 'correct horse battery' })).body.user.id as string;
    await t.server.core.sendMessage(aliceId, { chatId: Number(chatId), text: 'From another API' });
    await see(a, '#messages .msg.mine', 'From another API');

    bobOffline = false;
    await ctxB.setOffline(false);
    await see(b, '#messages .msg.theirs', 'From another API', 20_000);
    await b.locator('#conn-status').waitFor({ state: 'hidden' });
    const texts = await messageTexts(b);
    expect(texts).toEqual([
      'Hello Bob!',
      'Hi Alice, how are you?',
      'I am writing',
      'While you were away 1',
      'While you were away 2',
      'While you were away 3',
      'From another API',
    ]);
    const ids = await b.locator('#messages .msg').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-id')));
    expect(new Set(ids).size).toBe(ids.length);
    // Bob read them after catching up: Alice sees her last message read.
    await a.locator('#messages .msg.mine:last-child .ticks.read').waitFor();
    await shot(b, 'bob-caught-up');
  });

  it('creates a group with a member, adds another as owner, and uploads a group picture', async () => {
    await a.getByRole('button', { name: 'Create a group' }).click();
    const form = a.locator('#new-group-form');
    await form.getByLabel('Group name').fill('Project X');
    await form.getByLabel(/Members/).fill(bob);
    await form.getByRole('button', { name: 'Create group' }).click();
    await see(a, '#chat-name', 'Project X');
    await see(a, '#chat-status', '2 members');

    await a.getByRole('button', { name: 'Members and settings' }).click();
    const dialog = a.locator('#members-dialog');
    await see(a, '#member-list .member', 'Bob');
    await dialog.getByLabel('Add by username').fill(carol.username);
    await dialog.getByRole('button', { name: 'Add member' }).click();
    await see(a, '#member-list .member', carol.username);
    await dialog.getByLabel('Group picture', { exact: true }).setInputFiles({ name: 'group.png', mimeType: 'image/png', buffer: PNG });
    await dialog.getByRole('button', { name: 'Upload group picture' }).click();
    await a.locator('#chat-avatar img').waitFor();
    await shot(a, 'group-members');
    // Remove Carol again as the owner, then add her back.
    await dialog.getByRole('button', { name: `Remove ${carol.username}` }).click();
    await a.locator('#member-list .member', { hasText: carol.username }).waitFor({ state: 'detached' });
    await dialog.getByLabel('Add by username').fill(carol.username);
    await dialog.getByRole('button', { name: 'Add member' }).click();
    await see(a, '#member-list .member', carol.username);
    await dialog.getByRole('button', { name: 'Close' }).click();

    await send(a, 'Welcome to Project X');
    await see(b, '#chat-list .chat-item', 'Project X');
    await openChatByName(b, 'Project X');
    await see(b, '#messages .msg.theirs .sender', 'Alice');
    await see(b, '#messages .msg.theirs', 'Welcome to Project X');
    await b.locator('#chat-avatar img').waitFor();
    await a.locator('#messages .msg.mine .ticks.read').first().waitFor();
    await shot(b, 'bob-in-group');

    // Carol (added through the UI) is a member on the server and sees the message.
    const chats = await api(t, carol, 'GET', '/api/chats');
    const group = (chats.body as { name: string; id: string; participants: { userId: string; role: string }[] }[]).find((c) => c.name === 'Project X');
    expect(group?.participants.map((p) => p.role).sort()).toEqual(['member', 'member', 'owner']);
    const history = await api(t, carol, 'GET', `/api/chats/${group!.id}/messages`);
    expect(history.body.map((m: { content: string }) => m.content)).toEqual(['Welcome to Project X']);
  });

  it('pages back through a long history, oldest first, without gaps or repeats', async () => {
    const bobId = (await api(t, null, 'POST', '/auth/login', { username: bob, password: 'correct horse battery' })).body.user.id as string;
    const { chat } = await t.server.core.openPrivateChat(carol.id, bobId);
    for (let i = 1; i <= 120; i += 1) await t.server.core.sendMessage(carol.id, { chatId: chat.id, text: `line ${i}` });
    // Read already (elsewhere): it opens at the newest message, not at the first unread.
    await t.server.core.markRead(bobId, chat.id);
    await see(b, '#chat-list .chat-item', carol.username);
    await openChatByName(b, carol.username);
    await see(b, '#messages .msg', 'line 120');
    expect(await b.locator('#messages .msg').count()).toBe(50);
    // Scrolling to the top loads the page before (and maybe more); the button loads the rest.
    await b.locator('#scroller').evaluate((node) => node.scrollTo(0, 0));
    await see(b, '#messages .msg', 'line 70');
    expect(await b.locator('#messages .msg').count()).toBeGreaterThanOrEqual(100);
    const older = b.getByRole('button', { name: 'Load older messages' });
    if (await older.isVisible()) await older.click();
    await see(b, '#history-status', 'Beginning of the conversation');
    expect(await older.isVisible()).toBe(false);
    expect(await messageTexts(b)).toEqual(Array.from({ length: 120 }, (_, i) => `line ${i + 1}`));
    await shot(b, 'bob-long-history');
  });

  it('is usable at phone width: one pane at a time with a way back', async () => {
    await b.setViewportSize({ width: 380, height: 720 });
    await b.getByRole('button', { name: 'Back to chat list' }).click();
    await b.locator('#chat-list').waitFor({ state: 'visible' });
    expect(await b.locator('#chat-pane').isVisible()).toBe(false);
    await shot(b, 'phone-list');
    await openChatByName(b, 'Alice');
    expect(await b.locator('.sidebar').isVisible()).toBe(false);
    await shot(b, 'phone-chat');
  });

  it('logs out to the sign-in form and signs back in', async () => {
    await a.getByRole('button', { name: 'Log out' }).click();
    await a.locator('#login-form').waitFor();
    expect(await a.evaluate("localStorage.getItem('polychat.session')")).toBeNull();
    await a.locator('#login-form').getByLabel('Username or email').fill(alice);
    await a.locator('#login-form').getByLabel('Password').fill('correct horse battery');
    await a.locator('#login-form').getByRole('button', { name: 'Sign in' }).click();
    await see(a, '#chat-list .chat-item', 'Project X');
    await see(a, '#chat-list .chat-item', 'Bob');
    // Keyboard only: focus a chat, Enter opens it with the composer focused, Enter sends.
    await a.locator('#chat-list .chat-item', { has: a.locator('.chat-item-name', { hasText: /^Bob$/ }) }).focus();
    await a.keyboard.press('Enter');
    await see(a, '#chat-name', 'Bob');
    await a.keyboard.type('Typed with the keyboard');
    await a.keyboard.press('Enter');
    await see(b, '#messages .msg.theirs', 'Typed with the keyboard');
  });

  it('raised no script errors in either window', () => {
    expect(pageErrors).toEqual([]);
  });
});
