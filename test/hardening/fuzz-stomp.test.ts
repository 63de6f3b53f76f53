import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stompDialect } from '../../src/transports/stomp/stomp-dialect.js';
import { backends } from '../support/backends.js';
import { waitFor } from '../support/wait.js';
import { anyJson, checkProperty, idValue, nastyString, startFuzzWorld, type FuzzWorld } from './support/fuzz-kit.js';

/**
 * Raw STOMP bytes over a plain WebSocket to `/ws-chat`: random and mutated commands, headers
 * (escapes, content-length lies, duplicates), bodies with NULs and binary, missing terminators,
 * any chunking into WebSocket messages. After the fuzz bytes a probe SUBSCRIBE with a receipt
 * follows. Properties: the server either answers the probe (the connection is healthy) or sends
 * one well-formed ERROR frame with a `message` header and closes with 1002 (STOMP 1.2 / Spring);
 * the only other closes are 1000 after a DISCONNECT and 1009 for an oversize WebSocket message;
 * every server frame parses; nothing reaches the seeded chats; `/healthz` stays fine.
 */

const MAX_FRAME = 4096;

interface ServerFrame {
  command: string;
  headers: Map<string, string>;
  body: Buffer;
}

/** Parses the server's output (frames and heart-beat EOLs); throws on anything malformed. */
function parseServerOutput(all: Buffer): { frames: ServerFrame[]; rest: Buffer } {
  const frames: ServerFrame[] = [];
  let buf = all;
  for (;;) {
    while (buf.length > 0 && (buf[0] === 0x0a || (buf[0] === 0x0d && buf[1] === 0x0a))) buf = buf.subarray(buf[0] === 0x0a ? 1 : 2);
    if (buf.length === 0) break;
    const end = buf.indexOf('\n\n');
    if (end < 0) break;
    const lines = buf.subarray(0, end).toString('utf8').split('\n');
    const command = lines.shift()!;
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`malformed server header ${JSON.stringify(line)}`);
      const unescape = (s: string) => s.replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', c: ':', r: '\r', '\\': '\\' })[c] ?? `\\${c}`);
      const name = command === 'CONNECTED' ? line.slice(0, colon) : unescape(line.slice(0, colon));
      if (!headers.has(name)) headers.set(name, command === 'CONNECTED' ? line.slice(colon + 1) : unescape(line.slice(colon + 1)));
    }
    const start = end + 2;
    const length = headers.get('content-length');
    let body: Buffer;
    let next: number;
    if (length !== undefined) {
      if (!/^\d+$/.test(length)) throw new Error(`bad server content-length ${length}`);
      if (buf.length < start + Number(length) + 1) break;
      body = buf.subarray(start, start + Number(length));
      if (buf[start + Number(length)] !== 0) throw new Error('server frame not NUL-terminated after content-length');
      next = start + Number(length) + 1;
    } else {
      const nul = buf.indexOf(0, start);
      if (nul < 0) break;
      body = buf.subarray(start, nul);
      next = nul + 1;
    }
    frames.push({ command, headers, body });
    buf = buf.subarray(next);
  }
  return { frames, rest: buf };
}

class RawStomp {
  readonly chunks: Buffer[] = [];
  closeCode: number | null = null;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.chunks.push(Buffer.from(data)));
    ws.on('close', (code) => {
      this.closeCode = code;
    });
    ws.on('error', () => {});
  }
  static open(url: string, token: string | null): Promise<RawStomp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, ['v12.stomp'], token ? { headers: { authorization: `Bearer ${token}` } } : {});
      const c = new RawStomp(ws);
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }
  frames(): ServerFrame[] {
    return parseServerOutput(Buffer.concat(this.chunks)).frames;
  }
}

const EOL = fc.constantFrom('\n', '\n', '\r\n');

describe.each(backends)('STOMP fuzzing on %s', (backend) => {
  let w: FuzzWorld;
  let before: string;
  beforeAll(async () => {
    w = await startFuzzWorld(backend, {
      env: { MAX_FRAME_BYTES: String(MAX_FRAME) },
      dialects: [stompDialect({ incompleteFrameMs: 300, connectTimeoutMs: 3000 })],
    });
    before = await w.snapshot();
  });
  afterAll(async () => w?.close());

  function frameArb(): fc.Arbitrary<Buffer> {
    const chat = idValue([w.sink, w.sink, w.seeded, w.seededPrivate]).map((v) => String(v));
    const destination = fc.oneof(
      fc.tuple(chat, fc.constantFrom('sendMessage', 'sendMessage', 'typing', 'loadHistory', 'junk', '')).map(([c, a]) => `/app/chat/${c}/${a}`),
      chat.map((c) => `/topic/chat/${c}`),
      fc.constantFrom('/user/queue/notifications', '/user/queue/history', '/user/queue/errors', '/topic/chat/', '/app/chat//sendMessage', '/queue/x', ''),
      nastyString,
    );
    const validHeader = fc.oneof(
      { weight: 3, arbitrary: destination.map((d) => ['destination', d] as const) },
      { weight: 2, arbitrary: fc.oneof(nastyString, fc.constantFrom('sub-1', 'sub-1', 'a\\cb', 'x\\n', 'bad\\x', 'trailing\\')).map((v) => ['id', v] as const) },
      { weight: 1, arbitrary: fc.oneof(nastyString, fc.constantFrom('r1', 'r\\c2')).map((v) => ['receipt', v] as const) },
      { weight: 1, arbitrary: fc.oneof(fc.nat({ max: 200 }).map(String), fc.constantFrom('-1', '1e3', '', ' 5', '99999999999', '4097', '0')).map((v) => ['content-length', v] as const) },
      { weight: 1, arbitrary: fc.constantFrom('1.0', '1.1', '1.2', '2.0', '', '1.2,1.1').map((v) => ['accept-version', v] as const) },
      { weight: 1, arbitrary: fc.constantFrom('0,0', '10,10', '1,1', 'x', '-1,5').map((v) => ['heart-beat', v] as const) },
      { weight: 1, arbitrary: fc.constantFrom('Bearer junk', 'Bearer ', '', 'x.y.z').map((v) => ['Authorization', v] as const) },
    );
    const body = fc.oneof(
      fc.record({ content: fc.oneof(fc.constantFrom('hi', 'a'.repeat(1001), ' '), anyJson), type: fc.oneof(fc.constant('TEXT'), anyJson), replyToMessageId: idValue([1, 2, 3]) }, { requiredKeys: [] }).map((o) => Buffer.from(JSON.stringify(o))),
      fc.constantFrom('true', 'false', '{"typing":true}', '{"typing":"yes"}', '', '{', 'null').map((s) => Buffer.from(s)),
      fc.record({ offset: idValue([0, 1]), limit: idValue([1, 50, 500]), beforeMessageId: idValue([1, 5]) }, { requiredKeys: [] }).map((o) => Buffer.from(JSON.stringify(o))),
      anyJson.map((v) => Buffer.from(JSON.stringify(v) ?? '')),
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    );
    const header = fc.oneof({ weight: 4, arbitrary: validHeader }, { weight: 1, arbitrary: fc.tuple(nastyString, nastyString) });
    const command = fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom('SEND', 'SEND', 'SEND', 'SUBSCRIBE', 'SUBSCRIBE', 'UNSUBSCRIBE', 'ACK', 'NACK', 'BEGIN', 'COMMIT', 'ABORT', 'DISCONNECT', 'CONNECT', 'STOMP') },
      { weight: 1, arbitrary: fc.oneof(nastyString, fc.constantFrom('send', 'SEN', 'SENDX', ' SEND', 'SEND ', 'MESSAGE', 'ERROR', 'CONNECTED')) },
    );
    const terminator = fc.oneof({ weight: 12, arbitrary: fc.constant('\u0000') }, { weight: 1, arbitrary: fc.constantFrom('', '\u0000\u0000', '\u0000\n', '\n\u0000') });
    const blankLine = fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });
    return fc.tuple(command, fc.array(header, { maxLength: 5 }), EOL, body, terminator, blankLine).map(([cmd, headers, eol, b, term, blank]) =>
      Buffer.concat([Buffer.from(`${cmd}${eol}${headers.map(([k, v]) => `${k}:${v}`).join(eol)}${headers.length ? eol : ''}${blank ? eol : ''}`), b, Buffer.from(term)]),
    );
  }

  /** Fuzz bytes: a few frames (or raw junk), cut into 1..3 WebSocket messages, text or binary. */
  function inputArb(): fc.Arbitrary<{ messages: { data: Buffer; binary: boolean }[]; bytes: Buffer }> {
    const bytes = fc.oneof(
      { weight: 10, arbitrary: fc.array(frameArb(), { minLength: 1, maxLength: 2 }).map((fs) => Buffer.concat(fs)) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
      { weight: 1, arbitrary: fc.constantFrom(Buffer.from('\n\n\r\n'), Buffer.from('\r'), Buffer.from('\u0000'), Buffer.from(`SEND\ndestination:/app/chat/1/sendMessage\ncontent-length:5000\n\n${'x'.repeat(3000)}`), Buffer.alloc(5000, 0x41)) },
    );
    return fc.tuple(bytes, fc.array(fc.nat(), { maxLength: 2 }), fc.boolean()).map(([all, cuts, binary]) => {
      const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
      const messages: { data: Buffer; binary: boolean }[] = [];
      let from = 0;
      for (const p of [...points, all.length]) {
        if (p > from || messages.length === 0) messages.push({ data: all.subarray(from, p), binary: binary || !isUtf8(all.subarray(from, p)) });
        from = p;
      }
      return { messages: messages.filter((m) => m.data.length > 0), bytes: all };
    });
  }

  const isUtf8 = (b: Buffer): boolean => Buffer.from(b.toString('utf8'), 'utf8').equals(b);
  let probeCounter = 0;

  async function runCase(input: { messages: { data: Buffer; binary: boolean }[]; bytes: Buffer }, connected: boolean): Promise<string> {
    const c = await RawStomp.open(`${w.t.wsUrl}/ws-chat`, connected ? w.fuzzer.token : null);
    try {
      if (connected) {
        c.ws.send('CONNECT\naccept-version:1.2\nhost:polychat\n\n\u0000');
        await waitFor(() => c.frames().some((f) => f.command === 'CONNECTED'), 5000, 'CONNECTED');
      }
      const skip = c.frames().length;
      for (const m of input.messages) c.ws.send(m.data, { binary: m.binary });
      // A probe may be swallowed by the fuzz frame (as its headers or body): then another one follows.
      const probes: string[] = [];
      const answered = (): boolean => c.frames().some((f) => f.command === 'RECEIPT' && probes.includes(f.headers.get('receipt-id') ?? ''));
      const shown = `${connected ? 'after CONNECT' : 'before CONNECT'} <- ${JSON.stringify(input.messages.map((m) => m.data.toString('latin1')))}`;
      for (let attempt = 0; attempt < 4 && c.closeCode === null && !answered(); attempt++) {
        const probe = `probe-${++probeCounter}`;
        probes.push(probe);
        c.ws.send(`SUBSCRIBE\nid:${probe}\ndestination:/user/queue/errors\nreceipt:${probe}\n\n\u0000`);
        await waitFor(() => c.closeCode !== null || answered(), 1000, 'probe').catch(() => undefined);
      }
      await waitFor(() => c.closeCode !== null || answered(), 3000, `probe or close (${shown})`);
      let frames: ServerFrame[] = [];
      expect(() => (frames = c.frames().slice(skip)), shown).not.toThrow();
      for (const f of frames) expect(['RECEIPT', 'ERROR', 'MESSAGE', 'CONNECTED'], shown).toContain(f.command);
      for (const f of frames.filter((x) => x.command === 'MESSAGE')) {
        for (const h of ['destination', 'subscription', 'message-id', 'content-length']) expect(f.headers.has(h), `${shown}: MESSAGE without ${h}`).toBe(true);
        expect(() => JSON.parse(f.body.toString('utf8'))).not.toThrow();
      }
      const errors = frames.filter((f) => f.command === 'ERROR');
      if (errors.length > 0) {
        expect(errors, shown).toHaveLength(1);
        const error = errors[0]!;
        expect(frames.at(-1), `${shown}: a frame after ERROR`).toBe(error);
        expect(error.headers.get('message'), shown).toMatch(/\S/);
        expect(error.headers.get('message'), shown).not.toBe('Internal server error');
        expect(error.headers.get('content-type'), shown).toBe('text/plain');
        await waitFor(() => c.closeCode !== null, 5000, `close after ERROR (${shown})`);
        expect(c.closeCode, shown).toBe(1002);
        if (process.env['FUZZ_DEBUG'] && error.headers.get('message') === process.env['FUZZ_DEBUG']) console.log(shown, error.body.toString());
        return `ERROR ${error.headers.get('message')}`;
      }
      if (answered()) {
        expect(connected, `${shown}: a probe answered without CONNECT`).toBe(true);
        return 'alive';
      }
      // Closed without an ERROR frame: only a DISCONNECT (1000) or an oversize WebSocket message (1009).
      const code = c.closeCode!;
      if (code === 1000) expect(input.bytes.includes('DISCONNECT'), shown).toBe(true);
      else {
        expect(code, shown).toBe(1009);
        expect(input.messages.some((m) => m.data.length > MAX_FRAME), shown).toBe(true);
      }
      return `close ${code}`;
    } finally {
      c.ws.terminate();
    }
  }

  it('SEND and SUBSCRIBE into chats the user is not in: always ERROR Access denied, nothing stored', async () => {
    await checkProperty(
      'stomp non-member',
      fc.asyncProperty(
        fc.constantFrom(w.seeded, w.seededPrivate, 999_999),
        fc.constantFrom('SEND:sendMessage', 'SEND:typing', 'SEND:loadHistory', 'SUBSCRIBE'),
        fc.oneof(fc.constantFrom('{"content":"sneak"}', 'true', '{}', ''), anyJson.map((v) => JSON.stringify(v) ?? '')),
        async (chatId, what, body) => {
          const [command, action] = what.split(':');
          const destination = command === 'SEND' ? `/app/chat/${chatId}/${action}` : `/topic/chat/${chatId}`;
          const frame = Buffer.from(`${command}\ndestination:${destination}\nid:s1\nreceipt:x\ncontent-length:${Buffer.byteLength(body)}\n\n${body}\u0000`);
          const outcome = await runCase({ messages: [{ data: frame, binary: false }], bytes: frame }, true);
          expect(outcome).toBe('ERROR Access denied');
        },
      ),
      { seed: 0x570c, numRuns: 40 },
    );
    await w.assertHealthy(before, { noSessions: true });
  });

  it('STOMP over the SockJS websocket transport: random SockJS messages carrying random frames', async () => {
    const outcomes = new Map<string, number>();
    let session = 0;
    await checkProperty(
      'stomp sockjs',
      fc.asyncProperty(
        fc.oneof(
          { weight: 4, arbitrary: inputArb().map((i) => JSON.stringify([i.bytes.toString('latin1')])) },
          { weight: 1, arbitrary: fc.array(nastyString, { maxLength: 3 }).map((a) => JSON.stringify(a)) },
          { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v) ?? '') },
          { weight: 1, arbitrary: fc.oneof(nastyString, fc.constantFrom('[', '["a"', '"x"', '', '[1,2]', '[null]', '[["x"]]')) },
        ),
        async (message) => {
          const ws = new WebSocket(`${w.t.wsUrl}/ws-chat/000/fz${++session}x/websocket`);
          const got: string[] = [];
          let closed = false;
          ws.on('message', (d: Buffer) => got.push(d.toString('utf8')));
          ws.on('close', () => {
            closed = true;
          });
          ws.on('error', () => {});
          try {
            await waitFor(() => got.includes('o'), 5000, 'sockjs open');
            ws.send(JSON.stringify([`CONNECT\naccept-version:1.2\nhost:x\nAuthorization:Bearer ${w.fuzzer.token}\n\n\u0000`]));
            await waitFor(() => got.some((m) => m.includes('CONNECTED')), 5000, 'CONNECTED');
            ws.send(message);
            const probe = (n: number) => JSON.stringify([`SUBSCRIBE\nid:p${n}\ndestination:/user/queue/errors\nreceipt:p${n}\n\n\u0000`]);
            const answered = () => got.some((m) => /receipt-id:p\d/.test(m));
            const ended = () => closed || got.some((m) => m.startsWith('c[') || m.includes('ERROR\\n'));
            for (let n = 0; n < 4 && !ended() && !answered(); n++) {
              if (ws.readyState === WebSocket.OPEN) ws.send(probe(n));
              await waitFor(() => ended() || answered(), 1000, 'probe').catch(() => undefined);
            }
            await waitFor(() => ended() || answered(), 3000, `outcome of ${message.slice(0, 200)}`);
            const error = got.find((m) => m.includes('ERROR\\n'));
            if (error) {
              expect(error, message).toMatch(/message:/);
              expect(error, message).not.toMatch(/Internal server error/);
            }
            const outcome = answered() ? 'alive' : error ? 'ERROR' : 'closed';
            outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          } finally {
            ws.terminate();
          }
        },
      ),
      { seed: 0x570d, numRuns: 50 },
    );
    if (process.env['FUZZ_VERBOSE']) console.log(JSON.stringify([...outcomes]));
    await w.assertHealthy(before, { noSessions: true });
    expect(outcomes.get('alive') ?? 0).toBeGreaterThan(0);
  }, 60_000);

  for (const connected of [true, false]) {
    it(`random frames ${connected ? 'after' : 'before'} CONNECT: ERROR+1002 or a live connection, never a crash`, async () => {
      const outcomes = new Map<string, number>();
      await checkProperty(
        `stomp ${connected}`,
        fc.asyncProperty(inputArb(), async (input) => {
          const outcome = await runCase(input, connected);
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          await w.restoreSink();
        }),
        { seed: connected ? 0x570a : 0x570b, numRuns: connected ? 150 : 60 },
      );
      if (process.env['FUZZ_VERBOSE']) console.log(JSON.stringify([...outcomes].sort((a, b) => b[1] - a[1])));
      await w.assertHealthy(before, { noSessions: true });
      if (connected) expect(outcomes.get('alive') ?? 0).toBeGreaterThan(0);
      expect([...outcomes.keys()].some((k) => k.startsWith('ERROR'))).toBe(true);
    }, 60_000);
  }
});
