import { createServer, type Server } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../support/backends.js';
import { startServer, type TestServer } from '../../support/test-server.js';
import { sleep, waitFor } from '../../support/wait.js';
import { connect, isMessage, makeGroup, makeUser, type ChannelsUser } from './helpers.js';

/**
 * An external identity provider whose key set answers slowly, so that a client can hang up
 * while its connection is still being authenticated (Node drops the socket's error listener
 * on upgrade: an unguarded reset in that window would crash the process).
 */
describe.each(backends)('channels with a slow external identity provider on %s', (backend) => {
  let t: TestServer;
  let idp: Server;
  let sign: (sub: string, claims?: Record<string, unknown>) => Promise<string>;
  let owner: ChannelsUser;
  const sub = 'idp|slow-user';

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    idp = createServer((_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })), 400);
    });
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    const address = idp.address() as { port: number };
    sign = (s, claims = {}) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject(s).setExpirationTime('1h').sign(privateKey);
    t = await startServer(backend, { env: { JWKS_URL: `http://127.0.0.1:${address.port}/jwks.json` } });
    owner = await makeUser(t);
    // Known to the server (through the HS256 path, so the key set is not fetched yet) and in a chat.
    const member = await makeUser(t, { username: 'slow_user' }, sub);
    await makeGroup(t, owner, [member]);
  });
  afterAll(async () => {
    await t.close();
    await new Promise((r) => idp.close(r));
  });

  it('survives a client resetting the connection while its token is being verified, then admits RS256 tokens', async () => {
    const [chat] = await t.server.core.listChats(sub, { limit: 1, offset: 0 });
    const chatId = chat!.chat.id;
    const token = await sign(sub, { preferred_username: 'slow_user' });
    await new Promise<void>((resolve) => {
      const sock = tcpConnect(Number(new URL(t.url).port), '127.0.0.1', () => {
        sock.write(
          `GET /ws/chat/${chatId}/?token=${token} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
        setTimeout(() => {
          sock.resetAndDestroy();
          resolve();
        }, 100);
      });
    });
    // Let the key set answer and the abandoned handshake finish on the server.
    await sleep(600);

    const socket = await connect(t, chatId, { id: sub, token, username: 'slow_user' });
    socket.send({ type: 'message', text: 'signed by the IdP' });
    expect((await socket.next(isMessage('signed by the IdP'))).data.sender).toEqual({ id: sub, username: 'slow_user', first_name: '', last_name: '' });
    socket.close();
    await socket.closed();
    await waitFor(() => t.server.registry.size === 0, 5000, 'no session left behind');
  });
});
