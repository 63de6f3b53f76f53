import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { startServer, type TestServer } from '../../support/test-server.js';
import { waitFor } from '../../support/wait.js';
import { chatUrl, connect, isMessage, makeGroup, makeUser, refused } from './helpers.js';

describe.each(backends)('channels logging on %s', (backend) => {
  let t: TestServer;
  const lines: any[] = [];
  const raw: string[] = [];

  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => (raw.push(line), lines.push(JSON.parse(line))) });
    t = await startServer(backend, { logger });
  });
  afterAll(async () => t.close());

  const find = (msg: string, extra: (l: any) => boolean = () => true) => lines.find((l) => l.msg === msg && extra(l));

  it('logs connects, sends, disconnects, auth failures and access denials, and never a token', async () => {
    const owner = await makeUser(t);
    const outsider = await makeUser(t);
    const chatId = await makeGroup(t, owner, []);

    const socket = await connect(t, chatId, owner);
    socket.send({ type: 'message', text: 'logged send' });
    const frame = await socket.next(isMessage('logged send'));
    socket.close();
    await socket.closed();

    const badToken = 'garbage.token.value';
    expect((await refused(chatUrl(t, chatId, badToken))).code).toBe(4401);
    expect((await refused(chatUrl(t, chatId, outsider.token))).code).toBe(4403);
    expect((await refused(chatUrl(t, chatId), outsider.token)).code).toBe(4403);

    await waitFor(() => find('connection closed', (l) => l.userId === owner.id), 5000, 'disconnect line');
    expect(find('connection opened', (l) => l.userId === owner.id)).toMatchObject({ dialect: 'channels', level: 30 });
    expect(find('message sent')).toMatchObject({ dialect: 'channels', userId: owner.id, chatId, messageId: frame.data.id });
    expect(find('authentication failed')).toMatchObject({ dialect: 'channels', level: 40, path: `/ws/chat/${chatId}/?token=[redacted]` });
    expect(find('access denied', (l) => l.userId === outsider.id)).toMatchObject({ dialect: 'channels', level: 40, chatId: String(chatId) });

    const all = raw.join('\n');
    for (const secret of [owner.token, outsider.token, badToken]) expect(all).not.toContain(secret);
    // The text of a message is the user's business, not the log's.
    expect(all).not.toContain('logged send');
  });
});
