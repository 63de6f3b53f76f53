import fc from 'fast-check';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { waitFor } from '../support/wait.js';
import { anyJson, checkProperty, idValue, nastyString, startFuzzWorld, wellFormed, type FuzzWorld } from './support/fuzz-kit.js';

/**
 * Socket.IO fuzzing, two ways:
 * - raw Engine.IO / Socket.IO packet strings (and binary frames) over a plain WebSocket to
 *   `/socket.io/?EIO=4&transport=websocket`, followed by a probe event with an ack. The server
 *   either answers the probe or closes the transport (a malformed packet); a well-formed event
 *   packet never closes it. Every ack that comes back is `{success:true,…}` or
 *   `{success:false, error:string, code:string}` and never `Internal server error`.
 * - random event names and payloads through `socket.io-client` with acknowledgements: the same
 *   ack shape, `Unknown event: <name>` for unknown names, success only where the user may act.
 * Nothing reaches the seeded chats, `/healthz` stays fine.
 */

const NO_ACCESS = 'У вас нет доступа к этому чату';
const KNOWN = ['send_message', 'join_chat', 'leave_chat', 'get_chat_messages', 'get_my_chats', 'search_messages'];
const RESERVED = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];
const MAX_FRAME = 4096;

/** An ack payload in the dialect's shape. */
function checkAck(ack: unknown, where: string): void {
  expect(typeof ack === 'object' && ack !== null && !Array.isArray(ack), `${where}: ack ${JSON.stringify(ack)}`).toBe(true);
  const a = ack as Record<string, unknown>;
  expect(typeof a['success'], `${where}: ack ${JSON.stringify(ack)}`).toBe('boolean');
  if (a['success'] === false) {
    expect(typeof a['error'], `${where}: ack ${JSON.stringify(ack)}`).toBe('string');
    expect(typeof a['code'], `${where}: ack ${JSON.stringify(ack)}`).toBe('string');
    expect(a['error'], `${where}: ack ${JSON.stringify(ack)}`).not.toBe('Internal server error');
  }
}

class RawEio {
  readonly packets: (string | Buffer)[] = [];
  closeCode: number | null = null;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const text = isBinary ? Buffer.from(data) : data.toString('utf8');
      // Answer pings so the server keeps us.
      if (text === '2') ws.send('3');
      this.packets.push(text);
    });
    ws.on('close', (code) => {
      this.closeCode = code;
    });
    ws.on('error', () => {});
  }
  static async open(base: string, token: string): Promise<RawEio> {
    const ws = new WebSocket(`${base}/socket.io/?EIO=4&transport=websocket`);
    const c = new RawEio(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await waitFor(() => c.packets.some((p) => typeof p === 'string' && p.startsWith('0{')), 5000, 'engine.io open');
    ws.send(`40${JSON.stringify({ token })}`);
    await waitFor(() => c.packets.some((p) => typeof p === 'string' && p.startsWith('40{')), 5000, 'namespace connect');
    return c;
  }
  /** `43<id>[…]` answers, by ack id. */
  acks(): Map<number, unknown[]> {
    const out = new Map<number, unknown[]>();
    for (const p of this.packets) {
      if (typeof p !== 'string') continue;
      const m = /^43(\d+)(\[.*)$/s.exec(p);
      if (m) out.set(Number(m[1]), JSON.parse(m[2]!) as unknown[]);
    }
    return out;
  }
}

describe.each(backends)('Socket.IO fuzzing on %s', (backend) => {
  let w: FuzzWorld;
  let before: string;
  beforeAll(async () => {
    w = await startFuzzWorld(backend, { env: { MAX_FRAME_BYTES: String(MAX_FRAME) } });
    before = await w.snapshot();
  });
  afterAll(async () => w?.close());

  const chatId = (): fc.Arbitrary<unknown> => idValue([w.sink, w.sink, w.seeded, w.seededPrivate]);
  const payload = (): fc.Arbitrary<unknown> =>
    fc.oneof(
      { weight: 4, arbitrary: fc.record({ chatId: chatId(), text: fc.oneof(fc.constantFrom('hi', ' ', 'a'.repeat(1001)), nastyString, anyJson), limit: idValue([0, 5, 500]), offset: idValue([0, 1]) }, { requiredKeys: ['chatId'] }) },
      { weight: 4, arbitrary: fc.record({ chatId: fc.constantFrom<unknown>(w.sink, String(w.sink), w.seeded, String(w.seededPrivate)), text: fc.constantFrom('hello', 'привет') }) },
      { weight: 2, arbitrary: fc.record({ q: fc.oneof(fc.constantFrom('hello', 'привет', '"a', '-x or', 'x'.repeat(201)), nastyString, anyJson), limit: idValue([0, 5, 500]), offset: idValue([0, 1]) }, { requiredKeys: ['q'] }) },
      { weight: 1, arbitrary: anyJson },
    );
  const eventName = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...KNOWN) }, { weight: 1, arbitrary: fc.constantFrom(...RESERVED) }, { weight: 2, arbitrary: nastyString.map(wellFormed) }, { weight: 1, arbitrary: fc.oneof(fc.integer(), anyJson) });

  it('raw Engine.IO / Socket.IO packets: an answered probe or a closed transport, acks in shape', async () => {
    let c = await RawEio.open(w.t.wsUrl, w.fuzzer.token);
    let ackId = 1000;
    const outcomes = new Map<string, number>();
    const packet = fc.oneof(
      // A well-formed event (with or without an ack id).
      { weight: 6, arbitrary: fc.tuple(eventName, fc.array(payload(), { maxLength: 2 }), fc.boolean()).map(([name, args, withAck]) => ({ text: `42${withAck ? '7' : ''}${JSON.stringify([name, ...args])}`, wellFormed: typeof name === 'string' ? !RESERVED.includes(name) : typeof name === 'number' })) },
      // Any packet type, namespace, attachments, ack id and payload text.
      {
        weight: 3,
        arbitrary: fc
          .tuple(
            fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', 'x', ''),
            fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '9', ''),
            fc.constantFrom('', '1-', '2-', '-', '99999999999-'),
            fc.constantFrom('', '/', '/admin,', '/x,', ','),
            fc.constantFrom('', '1', '0', '99999999999999999999', '-1'),
            fc.oneof(payload().map((p) => JSON.stringify(p) ?? ''), fc.constantFrom('[', '["send_message"', '[{"_placeholder":true,"num":0}]', '["send_message",{"_placeholder":true,"num":5}]', '{}', ''), nastyString.map(wellFormed)),
          )
          .map(([eio, sio, att, ns, id, data]) => ({ text: `${eio}${sio}${att}${ns}${id}${data}`, wellFormed: false })),
      },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 32 }).map((b) => ({ text: Buffer.from(b), wellFormed: false })) },
      { weight: 1, arbitrary: fc.constant({ text: `42${JSON.stringify(['send_message', { chatId: 1, text: 'x'.repeat(5000) }])}`, wellFormed: false }) },
    );
    await checkProperty(
      'socket.io raw',
      fc.asyncProperty(fc.array(packet, { minLength: 1, maxLength: 3 }), async (packets) => {
        if (c.closeCode !== null || c.ws.readyState !== WebSocket.OPEN) c = await RawEio.open(w.t.wsUrl, w.fuzzer.token);
        const shown = JSON.stringify(packets.map((p) => (typeof p.text === 'string' ? p.text : [...p.text])));
        for (const p of packets) c.ws.send(p.text, { binary: typeof p.text !== 'string' });
        const probe = ++ackId;
        c.ws.send(`42${probe}["probe_event"]`);
        await waitFor(() => c.closeCode !== null || c.acks().has(probe), 5000, `probe or close after ${shown}`);
        // Anything acked so far is in the dialect's shape.
        for (const [id, args] of c.acks()) {
          expect(args, shown).toHaveLength(1);
          checkAck(args[0], `${shown} (ack ${id})`);
        }
        if (c.closeCode !== null) {
          expect(packets.every((p) => p.wellFormed), `${shown}: a well-formed event closed the connection (${c.closeCode})`).toBe(false);
          outcomes.set('closed', (outcomes.get('closed') ?? 0) + 1);
        } else {
          expect(c.acks().get(probe)).toEqual([{ success: false, error: 'Unknown event: probe_event', code: 'bad_request' }]);
          outcomes.set('alive', (outcomes.get('alive') ?? 0) + 1);
        }
      }),
      { seed: 0x50c1, numRuns: 150 },
    );
    c.ws.terminate();
    if (process.env['FUZZ_VERBOSE']) console.log(JSON.stringify([...outcomes]));
    expect(outcomes.get('alive') ?? 0).toBeGreaterThan(0);
    expect(outcomes.get('closed') ?? 0).toBeGreaterThan(0);
    await w.assertHealthy(before, { noSessions: true });
  }, 60_000);

  it('random events and payloads through socket.io-client: acks in shape, success only where allowed', async () => {
    const connect = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const s = io(w.t.url, { auth: { token: w.fuzzer.token }, transports: ['websocket'], reconnection: false, forceNew: true });
        s.once('connect', () => resolve(s));
        s.once('connect_error', reject);
      });
    let socket = await connect();
    const seen = new Map<string, number>();
    await checkProperty(
      'socket.io client',
      fc.asyncProperty(
        eventName.filter((n): n is string => typeof n === 'string' && !RESERVED.includes(n)),
        fc.array(fc.oneof({ weight: 5, arbitrary: payload() }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)) }), { minLength: 1, maxLength: 2 }),
        async (event, args) => {
          if (!socket.connected) socket = await connect();
          const seqBefore = (await w.t.server.store.getChat(w.sink))!.lastSeq;
          const where = `${event}(${JSON.stringify(args)})`;
          const ack = (await socket.timeout(5000).emitWithAck(event, ...args)) as Record<string, any>;
          checkAck(ack, where);
          const first = args[0] as Record<string, unknown> | undefined;
          const target = typeof first === 'object' && first !== null && !Array.isArray(first) && !Buffer.isBuffer(first) ? first['chatId'] : undefined;
          const isSink = (typeof target === 'number' || typeof target === 'string') && /^[1-9]\d*$/.test(String(target)) && Number(target) === w.sink;
          if (!KNOWN.includes(event)) expect(ack, where).toEqual({ success: false, error: `Unknown event: ${event}`, code: 'bad_request' });
          if (ack['success'] && !['get_my_chats', 'leave_chat', 'search_messages'].includes(event)) expect(isSink, `${where}: succeeded outside the sink`).toBe(true);
          if (!ack['success'] && ack['code'] === 'forbidden') expect(ack['error']).toBe(NO_ACCESS);
          const seqAfter = (await w.t.server.store.getChat(w.sink))!.lastSeq;
          if (event === 'send_message' && ack['success']) {
            expect(seqAfter, where).toBe(seqBefore + 1);
            expect(ack['message']).toMatchObject({ chatId: String(w.sink), sender: w.fuzzer.id, user: { id: w.fuzzer.id } });
          } else {
            expect(seqAfter, `${where}: stored without a successful send_message`).toBe(seqBefore);
          }
          const key = `${KNOWN.includes(event) ? event : 'unknown'} ${ack['success'] ? 'ok' : ack['code']}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
        },
      ),
      { seed: 0x50c2, numRuns: 200 },
    );
    socket.close();
    if (process.env['FUZZ_VERBOSE']) console.log(JSON.stringify([...seen]));
    expect(seen.get('send_message ok') ?? 0).toBeGreaterThan(0);
    expect(seen.get('send_message forbidden') ?? 0).toBeGreaterThan(0);
    expect(seen.get('search_messages ok') ?? 0).toBeGreaterThan(0);
    await w.assertHealthy(before, { noSessions: true });
  }, 60_000);

  it('long-polling transport: random POST bodies to a live Engine.IO session never get a 5xx', async () => {
    const base = `${w.t.url}/socket.io/?EIO=4&transport=polling`;
    const handshake = async (): Promise<string> => {
      const open = await (await fetch(base)).text();
      const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid;
      const res = await fetch(`${base}&sid=${sid}`, { method: 'POST', body: `40${JSON.stringify({ token: w.fuzzer.token })}` });
      expect(res.status).toBe(200);
      return sid;
    };
    let sid = await handshake();
    const statuses = new Map<number, number>();
    await checkProperty(
      'socket.io polling',
      fc.asyncProperty(
        fc.oneof(
          fc.array(fc.oneof(fc.tuple(eventName, payload()).map(([n, p]) => `42${JSON.stringify([n, p])}`), nastyString.map(wellFormed), fc.constantFrom('1', '2', '3', '6', '40', '41', '4', 'b', 'bAAAA')), { minLength: 1, maxLength: 3 }).map((packets) => packets.join('\u001e')),
          fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
        ),
        fc.constantFrom('text/plain;charset=UTF-8', 'application/octet-stream', 'application/json'),
        async (body, contentType) => {
          const res = await fetch(`${base}&sid=${sid}`, { method: 'POST', headers: { 'content-type': contentType }, body });
          await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          expect(res.status, JSON.stringify(typeof body === 'string' ? body : [...body])).toBeLessThan(500);
          if (res.status !== 200) sid = await handshake();
        },
      ),
      { seed: 0x50c3, numRuns: 80 },
    );
    if (process.env['FUZZ_VERBOSE']) console.log(JSON.stringify([...statuses]));
    await fetch(`${base}&sid=${sid}`, { method: 'POST', body: '1' }); // Engine.IO close packet
    await w.assertHealthy(before, { noSessions: true });
  }, 60_000);
});
