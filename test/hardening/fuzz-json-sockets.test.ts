import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { waitFor } from '../support/wait.js';
import { JsonSocket } from '../support/ws-client.js';
import { anyJson, checkProperty, idValue, nastyString, startFuzzWorld, wellFormed, type FuzzWorld } from './support/fuzz-kit.js';

/**
 * Random and mutated frames on the three JSON WebSocket dialects (`hub` /api/v1/ws, `rooms`
 * /api/v1/chat|group/{id} and /api/v1/main, `channels` /ws/chat/{id}/). After each fuzz frame a
 * probe frame with an unknown type follows; frames are handled in order, so everything the
 * server said about the fuzz frame arrives before the probe's error. Properties:
 * - every reply is either the dialect's own error shape or a legitimate event;
 * - a frame is never dropped silently unless it is a valid typing/read frame;
 * - a stored message is echoed in the dialect's shape and only comes from a `message` frame;
 * - a close only happens with the codes the dialect documents for that input;
 * - the seeded chats (the fuzzer is not in them) are unchanged and `/healthz` is fine.
 */

interface Payload {
  readonly data: string | Buffer;
  readonly binary: boolean;
  /** The frame as the server will parse it (undefined when it is not JSON text). */
  readonly parsed: unknown;
}

interface Target {
  readonly name: string;
  open(w: FuzzWorld): Promise<JsonSocket>;
  frame: (w: FuzzWorld) => fc.Arbitrary<unknown>;
  /** The exact error shape of the dialect. */
  isError(f: any): boolean;
  probe(n: number): string;
  isProbeReply(f: any, n: number): boolean;
  /** The echo of a message stored in the sink. */
  isEcho(f: any, id: number, w: FuzzWorld): boolean;
  /** Other legitimate replies to a frame (read receipts). */
  isOtherReply(f: any, p: Payload, w: FuzzWorld): boolean;
  /** May this frame produce no reply at all? */
  quietOk(p: Payload, w: FuzzWorld): boolean;
  /** May this frame close the socket, and with which code? */
  closeOk(p: Payload, code: number): boolean;
  /** May this frame store a message in the sink? */
  storeOk(p: Payload): boolean;
  /** The probe's reply looks like the fuzz frame's (the main socket refuses everything alike): wait for the second. */
  readonly sameReplyForAll?: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const sameId = (raw: unknown, id: number): boolean => (typeof raw === 'number' || typeof raw === 'string') && /^[1-9]\d{0,14}$/.test(String(raw)) && Number(raw) === id;
const decodable = (s: string): boolean => {
  try {
    decodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
};
const exactKeys = (f: any, keys: string[]): boolean => isObj(f) && Object.keys(f).sort().join() === [...keys].sort().join();

/** Serializations of a frame: JSON text, broken JSON, raw junk, binary. */
function payloadArb(frame: fc.Arbitrary<unknown>): fc.Arbitrary<Payload> {
  const json = frame.map((v) => JSON.stringify(v) ?? 'null');
  const parse = (s: string): unknown => {
    try {
      return JSON.parse(s);
    } catch {
      return undefined;
    }
  };
  return fc.oneof(
    { weight: 8, arbitrary: json.map((s) => ({ data: s, binary: false, parsed: parse(s) })) },
    { weight: 2, arbitrary: fc.tuple(json, fc.nat()).map(([s, n]) => s.slice(0, n % (s.length + 1))).map((s) => ({ data: s, binary: false, parsed: parse(s) })) },
    { weight: 2, arbitrary: fc.tuple(json, fc.nat(), fc.constantFrom(',', '"', '}', '\\', '\u0000', ']', ' ', 'x')).map(([s, n, c]) => { const i = n % (s.length + 1); return s.slice(0, i) + c + s.slice(i); }).map((s) => ({ data: s, binary: false, parsed: parse(s) })) },
    { weight: 2, arbitrary: nastyString.map((s) => wellFormed(s)).map((s) => ({ data: s, binary: false, parsed: parse(s) })) },
    { weight: 1, arbitrary: json.map((s) => ({ data: Buffer.from(s), binary: true, parsed: parse(s) })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 48 }).map((b) => ({ data: Buffer.from(b), binary: true, parsed: undefined })) },
    { weight: 1, arbitrary: fc.constant({ data: 'x'.repeat(5000), binary: false, parsed: undefined }) },
  );
}

const chatIds = (w: FuzzWorld): number[] => [w.sink, w.sink, w.sink, w.seeded, w.seededPrivate];
const text = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('hello', 'привет 😀', ' x ', 'a'.repeat(1000), 'a'.repeat(1001)) }, { weight: 2, arbitrary: nastyString }, { weight: 1, arbitrary: anyJson });

const hub: Target = {
  name: 'hub /api/v1/ws',
  open: async (w) => JsonSocket.open(`${w.t.wsUrl}/api/v1/ws`, { token: w.fuzzer.token }),
  frame: (w) =>
    fc.oneof(
      { weight: 6, arbitrary: fc.record({ type: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('message', 'typing', 'read') }, { weight: 1, arbitrary: anyJson }), data: fc.oneof({ weight: 5, arbitrary: fc.record({ conversation_id: idValue(chatIds(w)), body: text, is_typing: fc.oneof(fc.boolean(), anyJson) }, { requiredKeys: [] }) }, { weight: 1, arbitrary: anyJson }) }, { requiredKeys: [] }) },
      { weight: 1, arbitrary: anyJson },
    ),
  isError: (f) => exactKeys(f, ['type', 'data']) && f.type === 'error' && exactKeys(f.data, ['error']) && typeof f.data.error === 'string' && f.data.error.length > 0,
  probe: (n) => JSON.stringify({ type: `probe-${n}`, data: {} }),
  isProbeReply: (f, n) => f?.type === 'error' && f.data?.error === `Unknown event type: probe-${n}`,
  isEcho: (f, id, w) => f?.type === 'message' && f.data?.id === String(id) && f.data.conversation_id === String(w.sink) && f.data.sender_id === w.fuzzer.id && typeof f.data.created_at === 'number',
  // Read receipts (`read` events, where the server sends them) come through the bus and may trail the probe.
  isOtherReply: (f, _p, w) => f?.type === 'read' && f.data?.conversation_id === String(w.sink) && f.data.user_id === w.fuzzer.id && typeof f.data.read_seq === 'number',
  quietOk: (p, w) => isObj(p.parsed) && isObj(p.parsed['data']) && sameId(p.parsed['data']['conversation_id'], w.sink) && (p.parsed['type'] === 'read' || (p.parsed['type'] === 'typing' && typeof p.parsed['data']['is_typing'] === 'boolean')),
  // Binary frames holding UTF-8 are read as text; others get an error event. Over the frame limit: 1009.
  closeOk: (p, code) => code === 1009 && Buffer.byteLength(p.data) > 4096,
  storeOk: (p) => isObj(p.parsed) && p.parsed['type'] === 'message',
};

const rooms: Target = {
  name: 'rooms /api/v1/group/{id}',
  open: async (w) => {
    const s = await JsonSocket.open(`${w.t.wsUrl}/api/v1/group/${w.sink}?limit=1`, { token: w.fuzzer.token });
    await s.next((f) => f.type === 'history');
    return s;
  },
  frame: () =>
    fc.oneof(
      { weight: 6, arbitrary: fc.record({ type: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('message', 'typing', 'stop_typing') }, { weight: 1, arbitrary: anyJson }), text, author: fc.oneof(fc.record({ id: fc.oneof(fc.integer(), nastyString), name: nastyString }), anyJson), chat_id: anyJson }, { requiredKeys: [] }) },
      { weight: 1, arbitrary: anyJson },
    ),
  isError: (f) => exactKeys(f, ['type', 'error']) && f.type === 'error' && typeof f.error === 'string' && f.error.length > 0 && f.error !== 'Internal error',
  probe: (n) => JSON.stringify({ type: `probe-${n}` }),
  isProbeReply: (f, n) => f?.type === 'error' && f.error === `Unknown message type: probe-${n}`,
  isEcho: (f, id, w) => f?.type === 'message' && f.id === id && f.chat_id === w.sink && f.author?.id === Number(w.fuzzer.id) && typeof f.time === 'string',
  isOtherReply: () => false,
  quietOk: (p) => !p.binary && isObj(p.parsed) && (p.parsed['type'] === 'typing' || p.parsed['type'] === 'stop_typing'),
  closeOk: (p, code) => code === 1009 && Buffer.byteLength(p.data) > 4096,
  storeOk: (p) => !p.binary && isObj(p.parsed) && p.parsed['type'] === 'message',
};

const roomsMain: Target = {
  name: 'rooms /api/v1/main',
  open: async (w) => JsonSocket.open(`${w.t.wsUrl}/api/v1/main?token=${w.fuzzer.token}`),
  frame: () => anyJson,
  isError: rooms.isError,
  probe: (n) => JSON.stringify({ type: `probe-${n}` }),
  // The main socket refuses every frame with the same error: the probe's is the second one.
  isProbeReply: (f) => f?.type === 'error',
  sameReplyForAll: true,
  isEcho: () => false,
  isOtherReply: () => false,
  quietOk: () => false,
  closeOk: rooms.closeOk,
  storeOk: () => false,
};

const channels: Target = {
  name: 'channels /ws/chat/{id}/',
  open: async (w) => {
    const s = await JsonSocket.open(`${w.t.wsUrl}/ws/chat/${w.sink}/?token=${w.fuzzer.token}`);
    await s.next((f) => f.type === 'connection_established');
    return s;
  },
  frame: () =>
    fc.oneof(
      { weight: 6, arbitrary: fc.record({ type: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('message', 'typing', 'read_messages') }, { weight: 1, arbitrary: anyJson }), text, is_typing: fc.oneof(fc.boolean(), anyJson), sender: anyJson, user_id: anyJson }, { requiredKeys: [] }) },
      { weight: 1, arbitrary: anyJson },
    ),
  isError: (f) => exactKeys(f, ['type', 'message']) && f.type === 'error' && typeof f.message === 'string' && f.message.length > 0 && f.message !== 'Internal server error',
  probe: (n) => JSON.stringify({ type: `probe-${n}` }),
  isProbeReply: (f, n) => f?.type === 'error' && f.message === `Unknown message type: probe-${n}`,
  isEcho: (f, id, w) => f?.type === 'message' && f.data?.id === id && f.data.sender?.id === Number(w.fuzzer.id) && typeof f.data.timestamp === 'string',
  // Comes through the bus and may trail the probe (even into the next case).
  isOtherReply: (f, _p, w) => f?.type === 'messages_read' && f.user_id === Number(w.fuzzer.id),
  quietOk: (p) => !p.binary && isObj(p.parsed) && p.parsed['type'] === 'typing' && typeof p.parsed['is_typing'] === 'boolean',
  closeOk: rooms.closeOk,
  storeOk: (p) => !p.binary && isObj(p.parsed) && p.parsed['type'] === 'message',
};

describe.each(backends)('JSON socket fuzzing on %s', (backend) => {
  let w: FuzzWorld;
  let before: string;
  beforeAll(async () => {
    w = await startFuzzWorld(backend, { env: { MAX_FRAME_BYTES: '4096' } });
    before = await w.snapshot();
  });
  afterAll(async () => w?.close());

  for (const target of [hub, rooms, roomsMain, channels]) {
    it(`${target.name}: random and mutated frames`, async () => {
      let socket = await target.open(w);
      let probe = 0;
      const replies = new Map<string, number>();
      await checkProperty(
        target.name,
        fc.asyncProperty(payloadArb(target.frame(w)), async (p) => {
          if (socket.closeCode !== null || socket.ws.readyState !== WebSocket.OPEN) socket = await target.open(w);
          const n = ++probe;
          const seqBefore = (await w.t.server.store.getChat(w.sink))!.lastSeq;
          const start = socket.frames.length;
          socket.ws.send(p.data, { binary: p.binary });
          socket.ws.send(target.probe(n));
          const shown = `${target.name} <- ${p.binary ? 'binary ' : ''}${JSON.stringify(p.binary ? [...(p.data as Buffer)] : p.data).slice(0, 300)}`;
          const needed = target.sameReplyForAll ? 2 : 1;
          const probeHits = (): number[] => socket.frames.flatMap((f, i) => (i >= start && target.isProbeReply(f, n) ? [i] : []));
          await waitFor(() => socket.closeCode !== null || probeHits().length >= needed, 5000, `probe reply (${shown})`);
          if (socket.closeCode !== null) {
            expect(target.closeOk(p, socket.closeCode), `${shown}: closed with ${socket.closeCode}`).toBe(true);
            replies.set(`close ${socket.closeCode}`, (replies.get(`close ${socket.closeCode}`) ?? 0) + 1);
            return;
          }
          const probeAt = probeHits()[needed - 1]!;
          const answer = socket.frames.slice(start, probeAt);
          const seqAfter = (await w.t.server.store.getChat(w.sink))!.lastSeq;
          let stored: number | null = null;
          if (seqAfter > seqBefore) {
            expect(seqAfter - seqBefore, shown).toBe(1);
            expect(target.storeOk(p), `${shown}: stored a message`).toBe(true);
            const [message] = await w.t.server.store.listMessagesAfterSeq(w.sink, seqBefore, 1);
            stored = message!.id;
            await waitFor(() => socket.frames.some((f) => target.isEcho(f, stored!, w)), 5000, `echo of ${shown}`);
          }
          const errors = answer.filter((f) => target.isError(f));
          for (const f of socket.frames.slice(start)) {
            if ((!target.sameReplyForAll && target.isProbeReply(f, n)) || target.isError(f) || target.isOtherReply(f, p, w)) continue;
            expect(stored !== null && target.isEcho(f, stored, w), `${shown}: unexpected reply ${JSON.stringify(f)}`).toBe(true);
          }
          if (stored !== null) expect(errors, `${shown}: stored and refused`).toEqual([]);
          else if (errors.length === 0 && !answer.some((f) => target.isOtherReply(f, p, w))) expect(target.quietOk(p, w), `${shown}: no reply at all`).toBe(true);
          const kind = stored !== null ? 'stored' : errors.length > 0 ? 'error' : 'quiet';
          replies.set(kind, (replies.get(kind) ?? 0) + 1);
        }),
        { seed: 0x50c4 + target.name.length, numRuns: 150 },
      );
      socket.close();
      if (process.env['FUZZ_VERBOSE']) console.log(target.name, JSON.stringify([...replies]));
      await w.assertHealthy(before, { noSessions: true });
      expect(replies.get('error') ?? 0).toBeGreaterThan(0);
    }, 60_000);
  }

  it('connect URLs: random chat ids and paging queries are refused or accepted, never a crash', async () => {
    await checkProperty(
      'socket urls',
      fc.asyncProperty(
        fc.constantFrom('/api/v1/chat/', '/api/v1/group/', '/ws/chat/'),
        fc.oneof(idValue([w.sink, w.seeded, w.seededPrivate]).map((v) => encodeURIComponent(wellFormed(String(v)))), fc.constantFrom('%', '%zz', '%2F', '')).filter((id) => !/^\.+$/.test(id)), // dot segments are resolved by the client
        fc.constantFrom('fuzzer', 'outsider', 'none'),
        fc.array(fc.tuple(fc.constantFrom('limit', 'offset', 'x'), fc.oneof(nastyString, fc.integer({ min: -2, max: 300 }).map(String))), { maxLength: 3 }),
        async (prefix, id, who, query) => {
          const q = new URLSearchParams(query.map(([k, v]): [string, string] => [k, wellFormed(v)]));
          if (who !== 'none') q.set('token', who === 'fuzzer' ? w.fuzzer.token : w.outsider.token);
          const url = `${w.t.wsUrl}${prefix}${id}${prefix === '/ws/chat/' ? '/' : ''}?${q}`;
          let socket: JsonSocket;
          try {
            socket = await JsonSocket.open(url);
          } catch (err) {
            const status = (err as { status?: number }).status;
            expect(status, url).toBeDefined();
            // A path segment that is not valid percent-encoding is refused by the shared upgrade router.
            if (!decodable(id)) {
              expect(status, url).toBe(400);
              return;
            }
            // An empty segment is not a socket path at all (documented 404).
            if (id === '') {
              expect(status, url).toBe(404);
              return;
            }
            expect([400, 401, 403, 404], url).toContain(status);
            if (who === 'none') expect(status, url).toBe(401);
            return;
          }
          if (prefix === '/ws/chat/') {
            const first = await Promise.race([socket.next(() => true, 3000).catch(() => null), socket.closed(3000).then(() => null)]);
            if (first) {
              expect(first.type, url).toBe('connection_established');
              expect(who, url).toBe('fuzzer');
              expect(first.chat_id).toBe(w.sink);
            } else {
              expect([4401, 4403], url).toContain(socket.closeCode);
              expect(socket.frames, url).toEqual([]);
              if (who === 'none') expect(socket.closeCode).toBe(4401);
            }
          } else {
            const first = await socket.next(() => true);
            expect(first.type, url).toBe('history');
            expect(who, url).toBe('fuzzer');
          }
          socket.close();
        },
      ),
      { seed: 0x0c0e, numRuns: 120 },
    );
    await w.assertHealthy(before, { noSessions: true });
  }, 60_000);
});
