import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { registerUser, startServer, type TestServer, type TestUser } from '../support/test-server.js';
import { hasChromium, launch, messageTexts, openChatByName, person, PNG, register, requireChromium, see, send, SHOTS, watch, type Person } from './web-support.js';

/**
 * The web client as people judge it in their first minutes, next to other messengers: drafts
 * stay with their chat, the view never moves under the reader, a selection survives new
 * messages, ✓✓ only for what was seen, chat changes live, attention signals, reading comfort.
 * Two Chromium contexts are two people; a third member works through the API.
 */
requireChromium();

// In the page (the project's TypeScript has no DOM globals).
declare const getComputedStyle: (node: unknown) => { color: string; backgroundColor: string; getPropertyValue(name: string): string };

// Records desktop notifications instead of showing them (headless Chromium has no desktop).
const NOTIFICATIONS = `
  window.__notifications = [];
  window.Notification = class {
    static permission = 'granted';
    static requestPermission() { return Promise.resolve('granted'); }
    constructor(title, options) { window.__notifications.push({ title, body: options && options.body }); }
    close() {}
  };`;

describe.skipIf(!hasChromium)('web client in Chromium: reading and attention', () => {
  let t: TestServer;
  let browser: Browser;
  let alice: Person;
  let bob: Person;
  let a: Page;
  let b: Page;
  let carol: TestUser;
  let aliceId: string;
  let bobId: string;
  let privateChatId: number;
  const run = `${process.pid}${Date.now() % 100000}`;
  const errors: string[] = [];
  const confirms: string[] = [];

  const chatIdOf = (page: Page): Promise<string> => page.evaluate('window.polychat.state.openId') as Promise<string>;
  /** Alice's view of Bob's read cursor in a chat, from the server. */
  const bobReadSeq = async (chatId: number | string): Promise<number> => {
    const res = await fetch(`${t.url}/api/chats/${chatId}`, { headers: { authorization: `Bearer ${await a.evaluate("JSON.parse(localStorage.getItem('polychat.session')).token")}` } });
    const chat = (await res.json()) as { participants: { userId: string; readSeq: number }[] };
    return chat.participants.find((p) => p.userId === bobId)!.readSeq;
  };

  beforeAll(async () => {
    t = await startServer('sqlite');
    browser = await launch();
    alice = await person(browser, errors, 'alice');
    bob = await person(browser, errors, 'bob', { initScript: NOTIFICATIONS });
    a = alice.page;
    b = bob.page;
    a.on('dialog', (d) => confirms.push(d.message()));
    await register(t, a, `alice${run}`, 'Alice');
    await register(t, b, `bob${run}`, 'Bob');
    aliceId = (await a.evaluate('window.polychat.state.me.id')) as string;
    bobId = (await b.evaluate('window.polychat.state.me.id')) as string;
    carol = await registerUser(t, `carol${run}`);
    privateChatId = (await t.server.core.openPrivateChat(aliceId, bobId)).chat.id;
    await t.server.core.openPrivateChat(aliceId, carol.id);
    await see(a, '#chat-list .chat-item', 'Bob');
    await see(a, '#chat-list .chat-item', carol.username);
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

  it('keeps a draft per chat, across chat switches and a reload', async () => {
    const box = a.getByLabel('Message text');
    await openChatByName(a, 'Bob');
    await box.fill('half-written for Bob');
    await openChatByName(a, carol.username);
    expect(await box.inputValue()).toBe('');
    await box.fill('for Carol');
    await openChatByName(a, 'Bob');
    expect(await box.inputValue()).toBe('half-written for Bob');
    await a.reload();
    await see(a, '#chat-name', 'Bob');
    expect(await box.inputValue()).toBe('half-written for Bob');
    await openChatByName(a, carol.username);
    expect(await box.inputValue()).toBe('for Carol');
    // Sent: the draft is gone, here and after a reload.
    await box.press('Enter');
    await see(a, '#messages .msg.mine', 'for Carol');
    await a.reload();
    await see(a, '#chat-name', carol.username);
    expect(await box.inputValue()).toBe('');
    await openChatByName(a, 'Bob');
    await box.fill('');
  });

  it('opens an unread chat at the first unread message, under a "New messages" divider', async () => {
    for (let i = 1; i <= 60; i += 1) await t.server.core.sendMessage(aliceId, { chatId: privateChatId, text: `story ${i}` });
    await see(b, '#chat-list .badge', '60');
    await openChatByName(b, 'Alice');
    await see(b, '#unread-divider', 'New messages');
    // All 60 are there (older pages loaded up to the first unread), the divider right above it.
    expect(await messageTexts(b)).toEqual(Array.from({ length: 60 }, (_, i) => `story ${i + 1}`));
    const afterDivider = await b.locator('#unread-divider + li.msg .text').textContent();
    expect(afterDivider).toBe('story 1');
    const inView = await b.evaluate(`(() => {
      const box = document.getElementById('scroller').getBoundingClientRect();
      const d = document.getElementById('unread-divider').getBoundingClientRect();
      return d.top >= box.top - 1 && d.bottom <= box.bottom;
    })()`);
    expect(inView).toBe(true);
    await b.getByRole('button', { name: 'Jump to the newest message' }).waitFor();
  });

  it('does not mark read what the reader has not seen: ✓ until the newest message is on screen', async () => {
    // Bob reads from the top: the newest of Alice's 60 is far below.
    await a.waitForTimeout(600);
    expect(await bobReadSeq(privateChatId)).toBe(0);
    await openChatByName(a, 'Bob');
    await see(a, '#messages .msg.mine', 'story 60');
    expect(await a.locator('#messages .msg.mine .ticks.read').count()).toBe(0);
    // Scrolled to the bottom: now it is seen, and Alice gets ✓✓.
    await b.getByRole('button', { name: 'Jump to the newest message' }).click();
    await a.locator('#messages .msg.mine:last-child .ticks.read').waitFor();
    expect(await bobReadSeq(privateChatId)).toBe(60);
    await b.locator('#chat-list .badge').waitFor({ state: 'detached' });
  });

  it('keeps what the reader looks at still when messages arrive, and offers "↓ N new"', async () => {
    await b.locator('#scroller').evaluate((node) => node.scrollTo(0, 400));
    await b.waitForTimeout(200);
    const anchor = async () =>
      b.evaluate(`(() => {
        const box = document.getElementById('scroller').getBoundingClientRect();
        const first = [...document.querySelectorAll('#messages .msg')].find((n) => n.getBoundingClientRect().bottom > box.top);
        return { text: first.querySelector('.text').textContent, top: Math.round(first.getBoundingClientRect().top) };
      })()`);
    const before = await anchor();
    const seqBefore = await bobReadSeq(privateChatId);
    await send(a, 'arrives while Bob reads above');
    await see(b, '#jump-new', '↓ 1 new');
    await send(a, 'and another');
    await see(b, '#jump-new', '↓ 2 new');
    expect(await anchor()).toEqual(before);
    // Never on Bob's screen: Alice's ticks stay ✓.
    await b.waitForTimeout(500);
    expect(await bobReadSeq(privateChatId)).toBe(seqBefore);
    expect(await a.locator('#messages .msg.mine:last-child .ticks.read').count()).toBe(0);
    await b.getByRole('button', { name: 'Jump to 2 new messages' }).click();
    await a.locator('#messages .msg.mine:last-child .ticks.read').waitFor();
    expect(await b.locator('#jump-new').isVisible()).toBe(false);
  });

  it('keeps a text selection when a message arrives (the list is patched, not redrawn)', async () => {
    await b.evaluate(`(() => {
      const node = [...document.querySelectorAll('#messages .msg .text')].find((n) => n.textContent === 'story 60');
      node.__marked = true;
      const range = document.createRange();
      range.selectNodeContents(node);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
    })()`);
    await send(a, 'a message while Bob selects');
    await see(b, '#messages .msg.theirs', 'a message while Bob selects');
    expect(await b.evaluate('getSelection().toString()')).toBe('story 60');
    const same = await b.evaluate(`[...document.querySelectorAll('#messages .msg .text')].find((n) => n.textContent === 'story 60').__marked === true`);
    expect(same).toBe(true);
    await b.evaluate('getSelection().removeAllRanges()');
  });

  it('keeps the newest message in sight when the composer grows or the window narrows', async () => {
    await b.locator('#scroller').evaluate((node) => node.scrollTo(0, node.scrollHeight));
    const newestVisible = () =>
      b.evaluate(`(() => {
        const box = document.getElementById('scroller').getBoundingClientRect();
        const all = document.querySelectorAll('#messages .msg');
        const last = all[all.length - 1].getBoundingClientRect();
        return last.bottom <= box.bottom + 1 && last.top >= box.top;
      })()`);
    expect(await newestVisible()).toBe(true);
    await b.getByLabel('Message text').fill(Array.from({ length: 9 }, (_, i) => `line ${i + 1} of a long message`).join('\n'));
    await b.waitForTimeout(100);
    expect(await newestVisible()).toBe(true);
    await b.setViewportSize({ width: 760, height: 520 });
    await b.waitForTimeout(100);
    expect(await newestVisible()).toBe(true);
    await b.setViewportSize({ width: 1100, height: 720 });
    await b.getByLabel('Message text').fill('');
  });

  it('shows group changes live, as system lines, with a confirmation before removing', async () => {
    await a.getByRole('button', { name: 'Create a group' }).click();
    await a.locator('#new-group-form').getByLabel('Group name').fill('Team');
    await a.locator('#new-group-form').getByLabel(/Members/).fill(`bob${run}`);
    await a.locator('#new-group-form').getByRole('button', { name: 'Create group' }).click();
    await see(a, '#chat-name', 'Team');
    // Live on Bob's side, well before any list refresh (every 20 s).
    await see(b, '#chat-list .chat-item', 'Team', 5000);
    await openChatByName(b, 'Team');
    await see(b, '#chat-status', '2 members');

    await a.getByRole('button', { name: 'Members and settings' }).click();
    const dialog = a.locator('#members-dialog');
    // A refused file, then a good one: the error goes.
    await dialog.getByLabel('Group picture', { exact: true }).setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not a picture') });
    await dialog.getByRole('button', { name: 'Upload group picture' }).click();
    await see(a, '#members-dialog .form-error', 'Only PNG');
    await dialog.getByLabel('Group picture', { exact: true }).setInputFiles({ name: 'group.png', mimeType: 'image/png', buffer: PNG });
    await dialog.getByRole('button', { name: 'Upload group picture' }).click();
    await see(a, '#toast', 'Group picture updated');
    expect(await a.locator('#members-dialog .form-error').textContent()).toBe('');
    await b.locator('#chat-avatar img').waitFor({ timeout: 5000 });
    await see(b, '#messages .sep.system', 'Alice changed the group picture', 5000);

    await dialog.getByLabel('Add by username').fill(carol.username);
    await dialog.getByRole('button', { name: 'Add member' }).click();
    await see(b, '#messages .sep.system', `Alice added ${carol.username}`, 5000);
    await see(b, '#chat-status', '3 members');

    confirms.length = 0;
    await dialog.getByRole('button', { name: 'Remove Bob' }).click();
    await a.locator('#member-list .member', { hasText: 'Bob' }).waitFor({ state: 'detached' });
    expect(confirms).toEqual(['Remove Bob from “Team”?']);
    await see(a, '#messages .sep.system', 'You removed Bob');
    // Bob: the group goes at once, and he is told why.
    await see(b, '#toast', 'Alice removed you from “Team”', 5000);
    await b.locator('#chat-list .chat-item', { hasText: 'Team' }).waitFor({ state: 'detached' });
    await b.locator('#no-chat').waitFor();

    await dialog.getByRole('button', { name: `Remove ${carol.username}` }).click();
    await see(a, '#chat-status', '1 member');
    expect(await a.locator('#chat-status').textContent()).not.toContain('members');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  it('shows unread counts in the tab title and a desktop notification while the tab is hidden', async () => {
    await openChatByName(b, 'Alice');
    await b.evaluate(`(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    })()`);
    await openChatByName(a, 'Bob');
    await send(a, 'ping while you are away');
    await expect.poll(() => b.title()).toBe('(1) polychat — Bob');
    expect(await b.evaluate('window.__notifications')).toEqual([{ title: 'Alice', body: 'ping while you are away' }]);
    // Hidden: not read, however the chat is scrolled.
    expect(await a.locator('#messages .msg.mine:last-child .ticks.read').count()).toBe(0);
    await b.evaluate(`(() => {
      delete document.visibilityState;
      document.dispatchEvent(new Event('visibilitychange'));
    })()`);
    await expect.poll(() => b.title()).toBe('polychat — Bob');
    await a.locator('#messages .msg.mine:last-child .ticks.read').waitFor();
  });

  it('says so when the network goes with the socket still open, and resends queued messages by itself, once', async () => {
    await b.locator('#conn-status').waitFor({ state: 'hidden' });
    await bob.ctx.setOffline(true);
    await see(b, '#conn-status', 'You are offline');
    bob.refuseSockets = true;
    await bob.cutSockets();
    await send(b, 'queued while offline');
    await see(b, '#messages .msg.pending', 'queued while offline');
    bob.refuseSockets = false;
    await bob.ctx.setOffline(false);
    await see(a, '#messages .msg.theirs', 'queued while offline', 20_000);
    await b.locator('#messages .msg.pending').waitFor({ state: 'detached' });
    await b.locator('#conn-status').waitFor({ state: 'hidden' });
    await a.waitForTimeout(500);
    const history = await t.server.core.history(aliceId, privateChatId, { limit: 10, offset: 0 });
    expect(history.filter((m) => m.text === 'queued while offline')).toHaveLength(1);
    expect((await messageTexts(a)).filter((x) => x === 'queued while offline')).toHaveLength(1);

    // Sent, stored, but the echo is lost and the socket dies: after the reconnect it is neither
    // lost nor stored twice, and nobody clicked Retry.
    bob.dropMessageEvents = true;
    await send(b, 'echo lost');
    await see(a, '#messages .msg.theirs', 'echo lost');
    await see(b, '#messages .msg.pending', 'echo lost');
    await bob.cutSockets();
    bob.dropMessageEvents = false;
    await b.locator('#messages .msg.pending').waitFor({ state: 'detached', timeout: 20_000 });
    await see(b, '#messages .msg.mine', 'echo lost');
    await a.waitForTimeout(500);
    const after = await t.server.core.history(aliceId, privateChatId, { limit: 10, offset: 0 });
    expect(after.filter((m) => m.text === 'echo lost')).toHaveLength(1);
    expect((await messageTexts(a)).filter((x) => x === 'echo lost')).toHaveLength(1);
    expect((await messageTexts(b)).filter((x) => x === 'echo lost')).toHaveLength(1);
  });

  it('makes links clickable and safe, separates days, groups runs by sender with one avatar, one colour per person', async () => {
    await send(a, 'see https://example.org/a?b=1. and javascript:alert(1) too');
    await see(b, '#messages .msg.theirs', 'see https://example.org');
    const link = b.locator('#messages .msg.theirs a').last();
    expect(await link.getAttribute('href')).toBe('https://example.org/a?b=1');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await link.textContent()).toBe('https://example.org/a?b=1');
    expect(await b.locator('#messages a[href^="javascript"]').count()).toBe(0);
    await see(b, '#messages .sep.date', 'Today');
    expect(await b.evaluate(`import('/js/format.js').then((f) => f.dayLabel(Date.now() - 86400000))`)).toBe('Yesterday');

    // A group with three messages in a row by Alice: her name once, her avatar on the last one.
    const group = await t.server.core.createGroup(aliceId, { name: 'Run', memberIds: [bobId] });
    for (const text of ['run 1', 'run 2', 'run 3']) await t.server.core.sendMessage(aliceId, { chatId: group.id, text });
    await see(b, '#chat-list .chat-item', 'Run');
    await openChatByName(b, 'Run');
    await see(b, '#messages .msg.theirs', 'run 3');
    const runs = await b.locator('#messages .msg.theirs').evaluateAll((nodes) =>
      nodes.map((n) => ({ sender: n.querySelector('.sender')?.textContent ?? null, avatar: !n.querySelector('.msg-avatar')?.classList.contains('spacer') })),
    );
    expect(runs).toEqual([
      { sender: 'Alice', avatar: false },
      { sender: null, avatar: false },
      { sender: null, avatar: true },
    ]);
    const hueIn = (page: Page, selector: string) => page.locator(selector).first().evaluate((n) => getComputedStyle(n).getPropertyValue('--hue').trim());
    const aliceHue = await hueIn(a, '#me-avatar');
    // Polled: a row may be rebuilt (a name resolved) between finding it and reading its style.
    await expect.poll(() => hueIn(b, '#messages .msg.theirs.last .msg-avatar')).toBe(aliceHue);
    const aliceInBobsList = b.locator('#chat-list .chat-item', { has: b.locator('.chat-item-name', { hasText: /^Alice$/ }) }).locator('.avatar');
    await expect.poll(() => aliceInBobsList.evaluate((n) => getComputedStyle(n).getPropertyValue('--hue').trim())).toBe(aliceHue);
  });

  it('shows typed text in form fields at a contrast of at least 4.5:1, light and dark', async () => {
    const ratio = (page: Page, selector: string) =>
      page.locator(selector).evaluate((node) => {
        const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
        const lum = ([r, g, bl]: number[]) => {
          const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
          return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(bl!);
        };
        const style = getComputedStyle(node);
        const [l1, l2] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))].sort((x, y) => y - x);
        return (l1! + 0.05) / (l2! + 0.05);
      });
    for (const scheme of ['light', 'dark'] as const) {
      await b.emulateMedia({ colorScheme: scheme });
      expect(await ratio(b, '#composer-text')).toBeGreaterThanOrEqual(4.5);
      expect(await ratio(b, '#add-member-form input[name=username]')).toBeGreaterThanOrEqual(4.5);
      expect(await ratio(b, '#login-form input[name=username]')).toBeGreaterThanOrEqual(4.5);
      await b.screenshot({ path: join(SHOTS, `scheme-${scheme}.png`) });
    }
    await b.emulateMedia({ colorScheme: 'light' });
  });

  it('stays signed in in a new tab, until logging out (in any tab)', async () => {
    const tab = await bob.ctx.newPage();
    watch(tab, errors, 'bob-tab2');
    await tab.goto(t.url);
    await see(tab, '#me-name', 'Bob');
    await see(tab, '#chat-list .chat-item', 'Alice');
    await tab.getByRole('button', { name: 'Log out' }).click();
    await tab.locator('#login-form').waitFor();
    await b.locator('#login-form').waitFor();
    await tab.close();
  });

  // The README's picture: WEB_SCREENSHOT=docs/screenshot.png refreshes it (any run takes it under test-results/).
  it('shows a group conversation at its best (the README screenshot)', async () => {
    await t.server.core.updateProfile(carol.id, { name: 'Carol' });
    const group = await t.server.core.createGroup(aliceId, { name: 'Weekend trip', memberIds: [bobId, carol.id] });
    const say = (who: string, text: string) => t.server.core.sendMessage(who, { chatId: group.id, text });
    await say(carol.id, 'Train tickets are on sale: https://example.org/trains');
    await say(carol.id, 'Saturday 8:40 from the central station?');
    await say(bobId, 'Works for me!');
    await say(bobId, 'I can bring the tent and the stove');
    await a.reload();
    await openChatByName(a, 'Weekend trip');
    await send(a, 'Perfect, I booked three seats. See you on the platform!');
    await see(a, '#messages .msg.mine', 'Perfect, I booked');
    await b.goto(t.url);
    await b.locator('#login-form').getByLabel('Username or email').fill(`bob${run}`);
    await b.locator('#login-form').getByLabel('Password').fill('correct horse battery');
    await b.locator('#login-form').getByRole('button', { name: 'Sign in' }).click();
    await see(b, '#chat-list .chat-item', 'Weekend trip');
    await openChatByName(b, 'Weekend trip');
    await a.locator('#messages .msg.mine:last-child .ticks.read').waitFor();
    await say(carol.id, 'Great! I will print the map.');
    await see(a, '#messages .msg.theirs', 'print the map');
    await a.getByLabel('Message text').fill('Don’t forget the sunscreen');
    await a.locator('#composer-text').evaluate((node) => (node as unknown as { blur(): void }).blur());
    await a.screenshot({ path: join(SHOTS, 'readme.png') });
    if (process.env['WEB_SCREENSHOT']) await a.screenshot({ path: process.env['WEB_SCREENSHOT'] });
    await a.getByLabel('Message text').fill('');
  });

  it('raised no script errors in any window', () => {
    expect(errors).toEqual([]);
  });
});
