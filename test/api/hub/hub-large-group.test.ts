import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { registerUser, startServer, type TestServer, type TestUser } from '../../support/test-server.js';
import { sleep } from '../../support/wait.js';
import { JsonSocket } from '../../support/ws-client.js';

/**
 * Typing and presence in groups above LARGE_GROUP_SIZE (3 here), seen by a real `hub` client:
 * typing `true` is announced at most once per window and for a bounded number of typists per
 * second, a `false` only for an announced `true`; presence of a large group's member settles
 * before it is announced, and a reconnect within the settle time announces nothing.
 */
describe.each(backends)('hub typing and presence in large groups on %s', (backend) => {
  let t: TestServer;
  const open: JsonSocket[] = [];
  const connect = async (user: TestUser): Promise<JsonSocket> => {
    const s = await JsonSocket.open(`${t.wsUrl}/api/v1/ws`, { token: user.token });
    open.push(s);
    return s;
  };
  const group = async (owner: TestUser, others: TestUser[]): Promise<number> => (await t.server.core.createGroup(owner.id, { name: 'big', memberIds: others.map((u) => u.id) })).id;
  const typing = (chatId: number, isTyping: boolean) => ({ type: 'typing', data: { conversation_id: String(chatId), is_typing: isTyping } });
  const typingOf = (user: TestUser) => (f: any) => f.type === 'typing' && f.data.user_id === user.id;
  const presenceOf = (user: TestUser) => (f: any) => f.type === 'presence' && f.data.user_id === user.id;

  beforeAll(async () => {
    t = await startServer(backend, {
      env: { LARGE_GROUP_SIZE: '3' },
      coreOverrides: { typingTtlMs: 1500, largeGroupTypingMs: 600, largeGroupTypistsPerSecond: 1, largeGroupPresenceSettleMs: 1500 },
    });
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await t.close();
  });

  it('a large group: repeated typing true is announced once per window, false once', async () => {
    const [a, b, c, d] = await Promise.all([registerUser(t), registerUser(t), registerUser(t), registerUser(t)]);
    const chatId = await group(a, [b, c, d]);
    const [a1, b1] = await Promise.all([connect(a), connect(b)]);
    for (let i = 0; i < 5; i++) a1.send(typing(chatId, true));
    expect((await b1.next(typingOf(a))).data.is_typing).toBe(true);
    await b1.none(typingOf(a), 300);
    await sleep(400);
    a1.send(typing(chatId, true));
    expect((await b1.next(typingOf(a))).data.is_typing).toBe(true);
    a1.send(typing(chatId, false));
    a1.send(typing(chatId, false));
    expect((await b1.next(typingOf(a))).data.is_typing).toBe(false);
    await b1.none(typingOf(a), 300);
  });

  it('a large group: a bounded number of new typists per second; an unannounced one never gets a false', async () => {
    const [a, b, c, d] = await Promise.all([registerUser(t), registerUser(t), registerUser(t), registerUser(t)]);
    const chatId = await group(a, [b, c, d]);
    const [b1, c1, d1] = await Promise.all([connect(b), connect(c), connect(d)]);
    // Two new typists at once, one allowed per second: whichever the server took first is shown.
    c1.send(typing(chatId, true));
    d1.send(typing(chatId, true));
    const first = await b1.next((f) => typingOf(c)(f) || typingOf(d)(f));
    expect(first.data.is_typing).toBe(true);
    const [shown, refused, refusedSocket] = first.data.user_id === c.id ? [c, d, d1] : [d, c, c1];
    await b1.none(typingOf(refused), 300);
    refusedSocket.send(typing(chatId, false));
    await b1.none(typingOf(refused), 300);
    // The expiry of an announced true still comes.
    expect((await b1.next(typingOf(shown), 3000)).data.is_typing).toBe(false);
  });

  it('a small group is not throttled', async () => {
    const [a, b] = await Promise.all([registerUser(t), registerUser(t)]);
    const chatId = await group(a, [b]);
    const [a1, b1] = await Promise.all([connect(a), connect(b)]);
    a1.send(typing(chatId, true));
    a1.send(typing(chatId, true));
    await b1.next((f) => typingOf(a)(f) && f.data.is_typing);
    await b1.next((f) => typingOf(a)(f) && f.data.is_typing);
  });

  it('a large group member: presence settles before it is announced; a reconnect within it announces nothing', async () => {
    const [a, b, c, d] = await Promise.all([registerUser(t), registerUser(t), registerUser(t), registerUser(t)]);
    await group(a, [b, c, d]);
    const b1 = await connect(b);
    const started = Date.now();
    const a1 = await connect(a);
    expect((await b1.next(presenceOf(a), 5000)).data).toMatchObject({ online: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1450);
    // Drop and come back within the settle time: nobody hears of it.
    a1.close();
    await a1.closed();
    const a2 = await connect(a);
    await b1.none(presenceOf(a), 2000);
    expect((await t.server.core.presenceOf(a.id)).online).toBe(true);
    a2.close();
    expect((await b1.next(presenceOf(a), 5000)).data).toMatchObject({ online: false, last_seen: expect.any(Number) });
  });

  it('a member of small groups only: presence at once', async () => {
    const [a, b] = await Promise.all([registerUser(t), registerUser(t)]);
    await group(a, [b]);
    const b1 = await connect(b);
    const started = Date.now();
    await connect(a);
    await b1.next(presenceOf(a), 3000);
    // Well below the 1.5 s settle time (a loaded machine may take a few hundred ms).
    expect(Date.now() - started).toBeLessThan(1200);
  });
});
