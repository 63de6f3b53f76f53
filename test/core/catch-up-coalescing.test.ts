import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backends } from '../support/backends.js';
import { registerUser, startServer, type TestServer, type TestUser } from '../support/test-server.js';

/**
 * Reconnect storms (issue 15): identical catch-up reads of one chat that run at the same time
 * are served by one store query; access is still checked per caller, and a failed query fails
 * every caller that shared it.
 */
describe.each(backends)('catch-up reads coalesced on %s', (backend) => {
  let t: TestServer;
  let owner: TestUser;
  let members: TestUser[];
  let outsider: TestUser;
  let chatId: number;

  beforeAll(async () => {
    t = await startServer(backend);
    const users = await Promise.all(Array.from({ length: 8 }, () => registerUser(t)));
    [owner, outsider, members] = [users[0]!, users[1]!, users.slice(2)];
    chatId = (await t.server.core.createGroup(owner.id, { name: 'storm', memberIds: members.map((m) => m.id) })).id;
    for (let i = 1; i <= 12; i++) await t.server.core.sendMessage(owner.id, { chatId, text: `m${i}` });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await t.close();
  });

  it('N concurrent identical catch-ups by seq: one store call, every caller gets the page', async () => {
    const spy = vi.spyOn(t.server.store, 'listMessagesAfterSeq');
    const pages = await Promise.all(members.map((m) => t.server.core.messagesAfterSeq(m.id, chatId, 4, 5)));
    expect(spy).toHaveBeenCalledTimes(1);
    for (const page of pages) expect(page.map((m) => [m.seq, m.text])).toEqual([5, 6, 7, 8, 9].map((s) => [s, `m${s}`]));
    // A different page is its own query; a later identical one is a new query (nothing cached).
    await Promise.all([t.server.core.messagesAfterSeq(owner.id, chatId, 10, 5), t.server.core.messagesAfterSeq(members[0]!.id, chatId, 4, 5)]);
    expect(spy).toHaveBeenCalledTimes(3);
    spy.mockRestore();
  });

  it('N concurrent identical history pages: one store call', async () => {
    const spy = vi.spyOn(t.server.store, 'listMessages');
    const pages = await Promise.all(members.map((m) => t.server.core.history(m.id, chatId, { limit: 3, offset: 0 })));
    expect(spy).toHaveBeenCalledTimes(1);
    for (const page of pages) expect(page.map((m) => m.seq)).toEqual([10, 11, 12]);
    spy.mockRestore();
  });

  it('checks access per caller: an outsider sharing the moment is refused, the members are served', async () => {
    const spy = vi.spyOn(t.server.store, 'listMessagesAfterSeq');
    const results = await Promise.allSettled([...members, outsider].map((m) => t.server.core.messagesAfterSeq(m.id, chatId, 0, 3)));
    expect(results.slice(0, -1).every((r) => r.status === 'fulfilled' && r.value.length === 3)).toBe(true);
    expect(results.at(-1)).toMatchObject({ status: 'rejected', reason: { code: 'forbidden' } });
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });

  it('a failed query reaches every caller that shared it, and the next read queries again', async () => {
    const spy = vi.spyOn(t.server.store, 'listMessagesAfterSeq').mockImplementationOnce(async () => {
      await new Promise((r) => setTimeout(r, 20));
      throw new Error('database went away');
    });
    const results = await Promise.allSettled(members.map((m) => t.server.core.messagesAfterSeq(m.id, chatId, 2, 2)));
    expect(spy).toHaveBeenCalledTimes(1);
    expect(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'database went away')).toBe(true);
    const again = await t.server.core.messagesAfterSeq(members[0]!.id, chatId, 2, 2);
    expect(again.map((m) => m.seq)).toEqual([3, 4]);
    expect(spy).toHaveBeenCalledTimes(2);
    spy.mockRestore();
  });
});
