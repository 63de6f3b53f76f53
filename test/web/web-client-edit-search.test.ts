import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, registerUser, startServer, type TestServer, type TestUser } from '../support/test-server.js';
import { hasChromium, launch, messageTexts, openChatByName, person, register, requireChromium, see, send, SHOTS, type Person } from './web-support.js';

/**
 * Editing, deleting and searching messages in the web client (issue 18), in two Chromium
 * contexts: what one person changes shows live (and after a reload) in the other's window, what
 * the server refuses shows inline, and a search result opens its chat at the message.
 */
requireChromium();

// In the page (the project's TypeScript has no DOM globals).
interface PageState {
  state: { me: { id: string }; chats: Map<string, { messages: { id: string; text: string; senderId: string }[] }> };
}
declare const window: { polychat: PageState };

describe.skipIf(!hasChromium)('web client in Chromium: edit, delete, search', () => {
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
  /** History and change reads, failed while a test keeps someone away from the server. */
  const away = /\/api\/chats\/\d+\/(messages|changes)\?/;

  const token = (page: Page): Promise<string> => page.evaluate("JSON.parse(localStorage.getItem('polychat.session')).token") as Promise<string>;
  /** The chat's history as the server has it now (hub REST), for Alice. */
  const history = async (chatId: number): Promise<{ id: string; body: string; edited_at: string | null; deleted_at: string | null }[]> => {
    const res = await fetch(`${t.url}/api/v1/chat/conversations/${chatId}/messages?limit=200`, { headers: { authorization: `Bearer ${await token(a)}` } });
    return ((await res.json()) as { messages: { id: string; body: string; edited_at: string | null; deleted_at: string | null }[] }).messages;
  };
  const row = (page: Page, text: string) => page.locator('#messages .msg', { has: page.locator('.text', { hasText: text }) });
  const idOf = async (page: Page, text: string): Promise<string> => (await row(page, text).first().getAttribute('data-id'))!;
  const openMenuOf = async (page: Page, text: string): Promise<void> => {
    await row(page, text).first().hover();
    await row(page, text).first().locator('.msg-actions').click();
    await page.locator('#msg-menu').waitFor({ state: 'visible' });
  };

  beforeAll(async () => {
    t = await startServer('sqlite');
    browser = await launch();
    alice = await person(browser, errors, 'alice');
    bob = await person(browser, errors, 'bob');
    a = alice.page;
    b = bob.page;
    await register(t, a, `alice${run}`, 'Alice');
    await register(t, b, `bob${run}`, 'Bob');
    aliceId = (await a.evaluate('window.polychat.state.me.id')) as string;
    bobId = (await b.evaluate('window.polychat.state.me.id')) as string;
    carol = await registerUser(t, `carol${run}`);
    await t.server.core.updateProfile(carol.id, { name: 'Carol' });
    privateChatId = (await t.server.core.openPrivateChat(aliceId, bobId)).chat.id;
    await see(a, '#chat-list .chat-item', 'Bob');
    await see(b, '#chat-list .chat-item', 'Alice');
    await openChatByName(a, 'Bob');
    await openChatByName(b, 'Alice');
  }, 60_000);

  afterEach(async ({ task }) => {
    if (task.result?.state !== 'fail') return;
    // A test that failed half-way must not leave the next one without a network.
    for (const p of [alice, bob]) {
      p.refuseSockets = false;
      p.dropMessageEvents = false;
      await p.ctx.unroute(away).catch(() => {});
    }
    const name = task.name.replace(/\W+/g, '-').slice(0, 40);
    await a?.screenshot({ path: join(SHOTS, `failed-edit-${name}-alice.png`) }).catch(() => {});
    await b?.screenshot({ path: join(SHOTS, `failed-edit-${name}-bob.png`) }).catch(() => {});
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('edits a message from its menu by keyboard; the other side sees the new text and "edited" live and after a reload', async () => {
    await send(a, 'See you at 5 at the cafe');
    await see(b, '#messages .msg.theirs', 'See you at 5');
    // A half-written draft is not lost to the edit.
    const box = a.getByLabel('Message text');
    await box.fill('a draft in progress');
    // Keyboard only: the message's "⋯" button, Enter opens the menu on "Edit", Enter edits.
    await row(a, 'See you at 5').locator('.msg-actions').focus();
    await a.keyboard.press('Enter');
    await expect.poll(() => a.evaluate('document.activeElement.dataset.action')).toBe('edit');
    await a.keyboard.press('Enter');
    await a.locator('#edit-bar').waitFor({ state: 'visible' });
    expect(await box.inputValue()).toBe('See you at 5 at the cafe');
    await box.fill('See you at 6 at the cafe');
    await a.screenshot({ path: join(SHOTS, 'edit-in-progress.png') });
    await box.press('Enter');
    await a.locator('#edit-bar').waitFor({ state: 'hidden' });
    expect(await box.inputValue()).toBe('a draft in progress');
    await see(a, '#messages .msg.mine', 'See you at 6');
    await row(a, 'See you at 6').locator('.edited').waitFor();

    // Live on Bob's side: the new text, the mark, no old text left.
    await row(b, 'See you at 6').locator('.edited').waitFor();
    expect(await messageTexts(b)).toEqual(['See you at 6 at the cafe']);
    await see(b, '#chat-list .chat-item-preview', 'See you at 6');
    await b.screenshot({ path: join(SHOTS, 'edit-seen-live.png') });
    // And after a reload, from history.
    await b.reload();
    await row(b, 'See you at 6').locator('.edited').waitFor();
    expect(await messageTexts(b)).toEqual(['See you at 6 at the cafe']);
    const stored = await history(privateChatId);
    expect(stored.map((m) => m.body)).toEqual(['See you at 6 at the cafe']);
    expect(stored[0]!.edited_at).not.toBeNull();
  });

  it('edits the last own message with Up in an empty composer; Escape cancels and changes nothing', async () => {
    const box = a.getByLabel('Message text');
    await box.fill('');
    await box.press('ArrowUp');
    await a.locator('#edit-bar').waitFor({ state: 'visible' });
    expect(await box.inputValue()).toBe('See you at 6 at the cafe');
    await box.fill('this must not be saved');
    await box.press('Escape');
    await a.locator('#edit-bar').waitFor({ state: 'hidden' });
    // The draft comes back: it was emptied above.
    expect(await box.inputValue()).toBe('');
    await a.waitForTimeout(300);
    expect((await history(privateChatId)).map((m) => m.body)).toEqual(['See you at 6 at the cafe']);
    // Blank is refused inline (delete is the way to remove a message).
    await box.press('ArrowUp');
    await box.fill('   ');
    await box.press('Enter');
    await see(a, '#edit-error', 'cannot be empty');
    await box.press('Escape');
  });

  it('deletes a message after a confirmation; the other side sees a tombstone live and after a reload', async () => {
    await send(a, 'Oops, this was for someone else');
    await see(b, '#messages .msg.theirs', 'Oops, this was');
    await openMenuOf(a, 'Oops, this was');
    await a.locator('#msg-menu').getByRole('menuitem', { name: 'Delete' }).click();
    const dialog = a.locator('#delete-dialog');
    await dialog.waitFor({ state: 'visible' });
    await see(a, '#delete-preview', 'Oops, this was for someone else');
    // Cancel keeps it.
    await dialog.getByRole('button', { name: 'Keep the message' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await openMenuOf(a, 'Oops, this was');
    await a.locator('#msg-menu').getByRole('menuitem', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete the message' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await see(a, '#messages .msg.mine.deleted', 'Message deleted');

    await see(b, '#messages .msg.theirs.deleted', 'Message deleted');
    expect(await b.locator('#messages').textContent()).not.toContain('Oops');
    await see(b, '#chat-list .chat-item-preview', 'Message deleted');
    // Nothing left to do with a tombstone.
    expect(await b.locator('#messages .msg.deleted .msg-actions').count()).toBe(0);
    expect(await a.locator('#messages .msg.deleted .msg-actions').count()).toBe(0);
    await b.reload();
    await see(b, '#messages .msg.theirs.deleted', 'Message deleted');
    expect(await b.locator('#messages').textContent()).not.toContain('Oops');
    const stored = await history(privateChatId);
    expect(stored.at(-1)!.body).toBe('');
    expect(stored.at(-1)!.deleted_at).not.toBeNull();
  });

  it("offers no controls on the other person's message in a private chat, and shows a forged edit's or delete's refusal inline", async () => {
    await see(b, '#messages .msg.theirs', 'See you at 6');
    expect(await row(b, 'See you at 6').locator('.msg-actions').count()).toBe(0);
    // Forge it: Bob's page is told Alice's message is his, so the controls appear.
    const target = await idOf(b, 'See you at 6');
    await b.evaluate(
      ([chatId, id, me]) => {
        const m = window.polychat.state.chats.get(chatId)!.messages.find((k) => k.id === id)!;
        m.senderId = me;
      },
      [String(privateChatId), target, bobId] as const,
    );
    await send(a, 'a message that re-renders the list');
    await see(b, '#messages .msg.theirs', 'a message that re-renders');
    await row(b, 'See you at 6').locator('.msg-actions').waitFor();

    await openMenuOf(b, 'See you at 6');
    await b.locator('#msg-menu').getByRole('menuitem', { name: 'Edit' }).click();
    await b.getByLabel('Message text').fill('Bob rewrote it');
    await b.getByLabel('Message text').press('Enter');
    await see(b, '#edit-error', 'Only the author can edit a message');
    await b.screenshot({ path: join(SHOTS, 'edit-refused-inline.png') });
    await b.getByRole('button', { name: 'Cancel editing' }).click();

    await openMenuOf(b, 'See you at 6');
    await b.locator('#msg-menu').getByRole('menuitem', { name: 'Delete' }).click();
    await b.locator('#delete-dialog').getByRole('button', { name: 'Delete the message' }).click();
    await see(b, '#delete-dialog .form-error', 'Only the author or a group owner/admin can delete a message');
    await b.keyboard.press('Escape');
    await b.locator('#delete-dialog').waitFor({ state: 'hidden' });
    const stored = await history(privateChatId);
    expect(stored.find((m) => m.id === target)!.body).toBe('See you at 6 at the cafe');
    // The forgery goes with a reload.
    await b.reload();
    await see(b, '#messages .msg.theirs', 'See you at 6');
    expect(await row(b, 'See you at 6').locator('.msg-actions').count()).toBe(0);
  });

  it('shows a network failure and a message deleted meanwhile (404) inline, and catches up on the deletes it missed', async () => {
    await send(b, 'Bob wrote this');
    await see(a, '#messages .msg.theirs', 'Bob wrote this');
    // Offline: the edit cannot reach the server.
    await bob.ctx.setOffline(true);
    await b.getByLabel('Message text').press('ArrowUp');
    await b.getByLabel('Message text').fill('Bob fixed this');
    await b.getByLabel('Message text').press('Enter');
    await see(b, '#edit-error', 'Network error');
    await b.getByLabel('Message text').press('Escape');
    await bob.ctx.setOffline(false);

    // Bob's socket is down while his message is deleted elsewhere (his other device): his page still shows it.
    // His catch-up reads fail too, or a sync still running from the reconnect above could learn of
    // the delete before he tries to edit (the race this test once lost).
    const id = await idOf(b, 'Bob wrote this');
    await bob.ctx.route(away, (route) => (route.request().method() === 'GET' ? route.abort('internetdisconnected') : route.fallback()));
    bob.refuseSockets = true;
    await bob.cutSockets();
    await see(b, '#conn-status', 'Connection lost');
    await t.server.core.deleteMessage(bobId, { chatId: privateChatId, messageId: Number(id) });
    await see(a, '#messages .msg.theirs.deleted', 'Message deleted');
    await b.getByLabel('Message text').press('ArrowUp');
    await b.getByLabel('Message text').fill('Bob fixed this');
    await b.getByLabel('Message text').press('Enter');
    await see(b, '#edit-error', 'Message not found');
    // Back online: the catch-up brings the delete, and the edit of a deleted message ends.
    await bob.ctx.unroute(away);
    bob.refuseSockets = false;
    await see(b, `#messages .msg.deleted[data-id="${id}"]`, 'Message deleted', 20_000);
    await b.locator('#edit-bar').waitFor({ state: 'hidden' });
    await see(b, '#toast', 'The message you were editing was deleted');
    await b.locator('#conn-status').waitFor({ state: 'hidden' });
    expect(await b.getByLabel('Message text').inputValue()).toBe('');
  }, 60_000);

  it("lets a group's owner delete a member's message (not edit it), live for the member", async () => {
    const group = await t.server.core.createGroup(aliceId, { name: 'Book club', memberIds: [bobId, carol.id] });
    await t.server.core.sendMessage(aliceId, { chatId: group.id, text: 'Welcome, everyone' });
    await t.server.core.sendMessage(bobId, { chatId: group.id, text: 'Buy cheap watches here' });
    await see(a, '#chat-list .chat-item', 'Book club');
    await openChatByName(a, 'Book club');
    await openChatByName(b, 'Book club');
    // Bob, a member, may change his own message but not the owner's.
    expect(await row(b, 'Welcome, everyone').locator('.msg-actions').count()).toBe(0);
    expect(await row(b, 'Buy cheap watches').locator('.msg-actions').count()).toBe(1);

    await openMenuOf(a, 'Buy cheap watches');
    expect(await a.locator('#msg-menu').getByRole('menuitem', { name: 'Edit' }).isVisible()).toBe(false);
    await a.locator('#msg-menu').getByRole('menuitem', { name: 'Delete' }).click();
    await see(a, '#delete-note', 'its author included');
    await a.locator('#delete-dialog').getByRole('button', { name: 'Delete the message' }).click();
    await see(a, '#messages .msg.theirs.deleted', 'Message deleted');
    await see(b, '#messages .msg.mine.deleted', 'Message deleted');
    // Carol (through the API) sees the tombstone in history too.
    const res = await api(t, carol, 'GET', `/api/v1/chat/conversations/${group.id}/messages`);
    expect(res.body.messages.map((m: { body: string }) => m.body)).toEqual(['Welcome, everyone', '']);
  });

  it('finds a message far back in a chat and opens the chat scrolled to it, highlighted; the snippet is text, not HTML; a missed edit of it is caught up', async () => {
    await t.server.core.sendMessage(aliceId, { chatId: privateChatId, text: 'The wifi password is <img src=x onerror="window.__xss=1"> pelican42, <b>keep it safe</b>' });
    for (let i = 1; i <= 130; i += 1) await t.server.core.sendMessage(aliceId, { chatId: privateChatId, text: `filler ${i}` });
    await t.server.core.markRead(bobId, privateChatId);
    await b.reload();
    await see(b, '#me-name', 'Bob');
    await b.getByLabel('Search messages').fill('PELICAN42');
    await see(b, '#search-results .search-result', 'pelican42');
    const result = b.locator('#search-results .search-result').first();
    expect(await result.locator('.result-chat').textContent()).toBe('Alice');
    expect(await result.locator('.result-sender').textContent()).toBe('Alice');
    expect(await result.locator('mark').allTextContents()).toEqual(['pelican42']);
    expect(await result.locator('.result-snippet').textContent()).toContain('<img src=x');
    expect(await b.locator('#search-results img, #search-results b').count()).toBe(0);
    expect(await b.locator('#chat-list').isVisible()).toBe(false);
    await b.screenshot({ path: join(SHOTS, 'search-results.png') });

    await result.click();
    await see(b, '#chat-name', 'Alice');
    const hit = row(b, 'pelican42');
    await hit.waitFor();
    await expect.poll(() => hit.getAttribute('class')).toContain('flash');
    // Older pages were loaded to reach it (it is 131 messages back), and it is in the view.
    expect(await b.locator('#messages .msg').count()).toBeGreaterThan(130);
    const box = (await b.locator('#scroller').boundingBox())!;
    const at = (await hit.boundingBox())!;
    expect(at.y).toBeGreaterThanOrEqual(box.y);
    expect(at.y + at.height).toBeLessThanOrEqual(box.y + box.height);
    expect(await b.evaluate('window.__xss')).toBeUndefined();
    // Reading far above the newest message: the jump button offers the way down.
    await b.getByRole('button', { name: 'Jump to the newest message' }).waitFor();
    await b.screenshot({ path: join(SHOTS, 'search-opened-at-result.png') });

    // An edit of this old message (130 messages back, beyond the newest page) made while Bob's
    // socket is down arrives through the change catch-up on reconnect.
    bob.refuseSockets = true;
    await bob.cutSockets();
    await see(b, '#conn-status', 'Connection lost');
    const oldId = Number(await hit.getAttribute('data-id'));
    await t.server.core.editMessage(aliceId, { chatId: privateChatId, messageId: oldId }, 'The wifi password changed: albatross7');
    bob.refuseSockets = false;
    await see(b, `#messages .msg[data-id="${oldId}"]`, 'albatross7', 20_000);
    await b.locator(`#messages .msg[data-id="${oldId}"] .edited`).waitFor();

    // Escape in the box brings the chat list back.
    await b.getByLabel('Search messages').focus();
    await b.keyboard.press('Escape');
    await b.locator('#chat-list').waitFor({ state: 'visible' });
    expect(await b.locator('#search-results').isVisible()).toBe(false);
  }, 60_000);

  it('finds nothing in a chat the searcher is not in', async () => {
    const { chat } = await t.server.core.openPrivateChat(aliceId, carol.id);
    await t.server.core.sendMessage(carol.id, { chatId: chat.id, text: 'the zebracrossing plan is secret' });
    // Alice, a member, finds it: the word is searchable.
    await see(a, '#chat-list .chat-item', 'Carol');
    await a.getByLabel('Search messages').fill('zebracrossing');
    await see(a, '#search-results .search-result .result-chat', 'Carol');
    // Bob is not in that chat: nothing.
    await b.getByLabel('Search messages').fill('zebracrossing');
    await see(b, '#search-status', 'No messages found');
    expect(await b.locator('#search-results .search-result').count()).toBe(0);
    await b.getByRole('button', { name: 'Clear the search' }).click();
    await b.locator('#chat-list').waitFor({ state: 'visible' });
  });

  // The docs' picture of edit and search: WEB_SCREENSHOT_EDIT=docs/screenshot-edit-search.png refreshes it.
  it('shows edit, delete and search together (the docs screenshot)', async () => {
    const group = await t.server.core.createGroup(carol.id, { name: 'Garden club', memberIds: [aliceId, bobId] });
    const say = async (who: string, text: string): Promise<number> => (await t.server.core.sendMessage(who, { chatId: group.id, text })).message.id;
    await say(carol.id, 'Who takes the tomatoes this weekend?');
    const typo = await say(bobId, 'I can water them on Saturday mornign');
    await t.server.core.editMessage(bobId, { chatId: group.id, messageId: typo }, 'I can water them on Saturday morning');
    const oops = await say(carol.id, 'Sorry, wrong group!');
    await t.server.core.deleteMessage(carol.id, { chatId: group.id, messageId: oops });
    await say(carol.id, 'The tomatoes need stakes, I will bring some');
    await say(bobId, 'Great, thanks!');
    await t.server.core.updateProfile(carol.id, { name: 'Carol' });
    await a.reload();
    await see(a, '#chat-list .chat-item', 'Garden club');
    await openChatByName(a, 'Garden club');
    await send(a, 'I will pick the ripe ones on Sunday');
    await see(a, '#messages .msg.mine', 'ripe ones');
    await a.getByLabel('Search messages').fill('tomatoes');
    await see(a, '#search-results .search-result', 'stakes');
    await a.locator('#search-results .search-result', { hasText: 'stakes' }).click();
    await expect.poll(() => row(a, 'need stakes').getAttribute('class')).toContain('flash');
    await a.getByLabel('Message text').press('ArrowUp');
    await a.getByLabel('Message text').fill('I will pick the ripe ones on Sunday morning');
    await a.screenshot({ path: join(SHOTS, 'edit-search.png') });
    if (process.env['WEB_SCREENSHOT_EDIT']) await a.screenshot({ path: process.env['WEB_SCREENSHOT_EDIT'] });
    await a.getByLabel('Message text').press('Escape');
    await a.getByLabel('Search messages').fill('');
  });

  it('raised no script errors in either window', () => {
    expect(errors).toEqual([]);
  });
});
