import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { waitFor } from '../support/wait.js';
import { checkProperty, nastyString, startFuzzWorld, wellFormed, type FuzzWorld } from './support/fuzz-kit.js';

/**
 * Raw HTTP upgrade requests to every realtime mount point (and next to them): random paths,
 * queries, tokens, `Sec-WebSocket-*` headers and subprotocols, written on a bare TCP socket.
 * Properties: every request gets an HTTP answer (101 or an error status) or a close within a
 * bound, never a hang; never a 5xx; the process stays healthy with no error logs.
 */

const MOUNTS = [
  '/api/v1/ws',
  '/api/v1/chat/{chat}',
  '/api/v1/group/{chat}',
  '/api/v1/main',
  '/ws/chat/{chat}/',
  '/ws/chat/{chat}',
  '/ws-chat',
  '/ws-chat/websocket',
  '/ws-chat/000/abcd/websocket',
  '/ws-chat/info',
  '/ws-chat/000/abcd/xhr',
  '/socket.io/',
  '/nowhere',
  '/',
];

interface Outcome {
  status: number | null;
  closed: boolean;
}

function rawUpgrade(port: number, request: string, timeoutMs = 4000): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      socket.destroy();
      resolve({ status: m ? Number(m[1]) : null, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (/^HTTP\/1\.1 \d{3}/.test(data)) finish(true);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.write(request);
  });
}

describe.each(backends)('upgrade fuzzing on %s', (backend) => {
  let w: FuzzWorld;
  let before: string;
  let port: number;
  beforeAll(async () => {
    w = await startFuzzWorld(backend);
    before = await w.snapshot();
    port = Number(new URL(w.t.url).port);
  });
  afterAll(async () => w?.close());

  it('random upgrade requests: an answer or a close, never a hang or a 5xx', async () => {
    const statuses = new Map<string, number>();
    const printable = fc.string({ unit: fc.constantFrom(...'abcxyz019 ,;=/-_.:%'.split('')), maxLength: 20 });
    // Mostly printable header values (Node's own parser answers 400 to control characters before any upgrade handler runs).
    const headerValue = fc.oneof({ weight: 4, arbitrary: printable }, { weight: 1, arbitrary: nastyString.map((s) => wellFormed(s).replace(/[\r\n]/g, '')) });
    await checkProperty(
      'upgrades',
      fc.asyncProperty(
        fc.constantFrom(...MOUNTS),
        fc.oneof({ weight: 3, arbitrary: fc.constantFrom(String(w.sink), String(w.seeded), '0', 'abc', '%zz', '%00', '') }, { weight: 1, arbitrary: headerValue.map(encodeURIComponent) }),
        fc.oneof(fc.constant(''), fc.constant(`token=${w.fuzzer.token}`), fc.constantFrom('EIO=4&transport=websocket', 'EIO=3&transport=websocket', 'EIO=4&transport=polling', 'EIO=x', `token=${w.fuzzer.token}`, `access_token=${w.outsider.token}`, 'token=junk', 'limit=-1', 'limit=%', '&&')),
        fc.record({
          upgrade: fc.constantFrom('websocket', 'websocket', 'websocket', 'websocket', 'WebSocket', 'h2c', 'junk', null),
          version: fc.constantFrom('13', '13', '13', '13', '8', 'x', '', null),
          key: fc.constantFrom('dGhlIHNhbXBsZSBub25jZQ==', 'dGhlIHNhbXBsZSBub25jZQ==', 'dGhlIHNhbXBsZSBub25jZQ==', 'dGhlIHNhbXBsZSBub25jZQ==', 'short', '', null),
          protocol: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: fc.constantFrom('v12.stomp', 'v10.stomp, v11.stomp', 'x', '') }, { weight: 1, arbitrary: headerValue }),
          auth: fc.constantFrom(null, `Bearer ${w.fuzzer.token}`, 'Bearer junk', 'Basic Zm9vOmJhcg=='),
          extra: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(fc.constantFrom('Origin', 'Cookie', 'X-Forwarded-For', 'Sec-WebSocket-Extensions'), headerValue) }),
        }),
        async (mount, chat, query, h) => {
          const path = mount.replace('{chat}', chat) + (query ? `${mount.includes('?') ? '&' : '?'}${query}` : '');
          const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: Upgrade'];
          if (h.upgrade !== null) lines.push(`Upgrade: ${h.upgrade}`);
          if (h.version !== null) lines.push(`Sec-WebSocket-Version: ${h.version}`);
          if (h.key !== null) lines.push(`Sec-WebSocket-Key: ${h.key}`);
          if (h.protocol !== null) lines.push(`Sec-WebSocket-Protocol: ${h.protocol}`);
          if (h.auth !== null) lines.push(`Authorization: ${h.auth}`);
          if (h.extra !== null) lines.push(`${h.extra[0]}: ${h.extra[1]}`);
          const outcome = await rawUpgrade(port, `${lines.join('\r\n')}\r\n\r\n`);
          const key = `${mount} ${outcome.status ?? (outcome.closed ? 'closed' : 'hang')}`;
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          expect(outcome.status !== null || outcome.closed, `${path} ${JSON.stringify(h)}: no answer and no close`).toBe(true);
          if (outcome.status !== null) expect(outcome.status, `${path} ${JSON.stringify(h)}`).toBeLessThan(500);
        },
      ),
      { seed: 0x0b9e, numRuns: 200 },
    );
    if (process.env['FUZZ_VERBOSE']) console.log(JSON.stringify([...statuses].sort()));
    await waitFor(() => w.t.server.registry.size === 0, 10_000, 'registry empty after the upgrades');
    await w.assertHealthy(before);
  }, 60_000);

  it('clients that vanish mid-handshake (partial request, reset during the token check) never crash the process', async () => {
    await checkProperty(
      'vanishing clients',
      fc.asyncProperty(
        fc.constantFrom(...MOUNTS),
        fc.constantFrom(`token=${w.fuzzer.token}`, 'token=junk', ''),
        fc.nat({ max: 400 }),
        fc.nat({ max: 15 }),
        fc.boolean(),
        async (mount, query, cut, delayMs, reset) => {
          const path = mount.replace('{chat}', String(w.sink)) + (query ? `?${query}` : '');
          const request = `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v12.stomp\r\n\r\n`;
          await new Promise<void>((resolve) => {
            const socket = connect(port, '127.0.0.1', () => {
              socket.write(request.slice(0, Math.min(cut, request.length)));
              setTimeout(() => {
                if (reset) socket.resetAndDestroy();
                else socket.destroy();
                resolve();
              }, delayMs);
            });
            socket.on('error', () => resolve());
          });
        },
      ),
      { seed: 0x0b9f, numRuns: 150 },
    );
    // Every session of a vanished client leaves the registry (no leaked connections, presence right).
    await waitFor(() => w.t.server.registry.size === 0, 10_000, 'registry empty after vanished clients');
    await w.assertHealthy(before);
    const health = await fetch(`${w.t.url}/readyz`);
    expect(health.status).toBe(200);
  }, 60_000);
});
