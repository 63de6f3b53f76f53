import { Writable } from 'node:stream';
import fc from 'fast-check';
import { expect } from 'vitest';
import { createLogger } from '../../../src/app/create-logger.js';
import type { Backend } from '../../support/backends.js';
import { waitFor } from '../../support/wait.js';
import { registerUser, startServer, type StartOptions, type TestServer, type TestUser } from '../../support/test-server.js';

/**
 * A server with a fixed cast for fuzzing and authorization tests:
 * - `owner` owns the `seeded` group (with `member`) and the `sink` group (with `fuzzer` as a
 *   plain member), and has a private chat `seededPrivate` with `member`;
 * - `seeded` and `seededPrivate` hold a few messages; nothing the fuzzer or `outsider` does may
 *   change them (compared with `snapshot()` before and after);
 * - `sink` is where frames that legitimately store a message end up.
 * Error-level server log lines (unexpected failures) and unhandled rejections are collected:
 * a fuzz run must produce none.
 */
export interface FuzzWorld {
  readonly t: TestServer;
  readonly owner: TestUser;
  readonly member: TestUser;
  readonly fuzzer: TestUser;
  readonly outsider: TestUser;
  readonly seeded: number;
  readonly seededPrivate: number;
  readonly sink: number;
  /** Error-level log lines written by the server since start. */
  readonly errorLogs: string[];
  /** Stored state of the seeded chats: chat rows, members and every message. */
  snapshot(): Promise<string>;
  /** Puts the fuzzer back into `sink` if a fuzz case made it leave. */
  restoreSink(): Promise<void>;
  /**
   * `/healthz` answers 200, the seeded chats are as before, no error logs, no unhandled
   * rejections; with `noSessions`, every connection the fuzzer opened has left the registry.
   */
  assertHealthy(before: string, options?: { noSessions?: boolean }): Promise<void>;
  close(): Promise<void>;
}

const unhandled: unknown[] = [];
let listening = false;
function watchProcess(): void {
  if (listening) return;
  listening = true;
  process.on('unhandledRejection', (reason) => unhandled.push(reason));
  process.on('uncaughtException', (err) => unhandled.push(err));
}

export async function startFuzzWorld(backend: Backend, options: StartOptions = {}): Promise<FuzzWorld> {
  watchProcess();
  const errorLogs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) errorLogs.push(line);
      done();
    },
  });
  const t = await startServer(backend, { logger: createLogger('error', sink), ...options });
  const owner = await registerUser(t);
  const member = await registerUser(t);
  const fuzzer = await registerUser(t);
  const outsider = await registerUser(t);
  const core = t.server.core;
  const seeded = (await core.createGroup(owner.id, { name: 'seeded', description: 'do not touch', memberIds: [member.id] })).id;
  const sinkChat = (await core.createGroup(owner.id, { name: 'sink', memberIds: [fuzzer.id] })).id;
  const seededPrivate = (await core.openPrivateChat(owner.id, member.id)).chat.id;
  for (const [i, text] of ['first', 'second', 'third'].entries()) {
    await core.sendMessage(i % 2 === 0 ? owner.id : member.id, { chatId: seeded, text });
    await core.sendMessage(i % 2 === 0 ? member.id : owner.id, { chatId: seededPrivate, text: `p-${text}` });
  }
  const store = t.server.store;
  const snapshot = async (): Promise<string> => {
    const parts = [];
    for (const chatId of [seeded, seededPrivate]) {
      const chat = await store.getChat(chatId);
      const members = (await store.listMembers(chatId)).map((m) => ({ ...m })).sort((a, b) => a.userId.localeCompare(b.userId));
      const messages = await store.listMessagesAfterSeq(chatId, 0, 10_000);
      parts.push({ chat, members, messages });
    }
    return JSON.stringify(parts);
  };
  return {
    t,
    owner,
    member,
    fuzzer,
    outsider,
    seeded,
    seededPrivate,
    sink: sinkChat,
    errorLogs,
    snapshot,
    async restoreSink() {
      const m = await store.getMember(sinkChat, fuzzer.id);
      if (!m) await core.addMembers(owner.id, sinkChat, [fuzzer.id]);
    },
    async assertHealthy(before: string, options: { noSessions?: boolean } = {}) {
      if (options.noSessions) await waitFor(() => t.server.registry.size === 0, 10_000, 'every fuzzed connection to leave the registry');
      const health = await fetch(`${t.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await snapshot()).toBe(before);
      expect(errorLogs).toEqual([]);
      expect(unhandled).toEqual([]);
      // The sink's history stays gapless whatever was stored in it.
      const stored = await store.listMessagesAfterSeq(sinkChat, 0, 100_000);
      expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
    },
    close: () => t.close(),
  };
}

/**
 * Runs a property with a fixed seed (override with FUZZ_SEED) and a bounded number of runs;
 * fast-check's failure message carries the seed, path and counterexample, and we repeat the
 * seed so a failure can be replayed with FUZZ_SEED=<seed>.
 */
export async function checkProperty<T>(name: string, property: fc.IAsyncPropertyWithHooks<T> | fc.IAsyncProperty<T>, options: { seed: number; numRuns: number }): Promise<void> {
  const seed = process.env['FUZZ_SEED'] ? Number(process.env['FUZZ_SEED']) : options.seed;
  try {
    await fc.assert(property, { seed, numRuns: options.numRuns, endOnFailure: true });
  } catch (err) {
    throw new Error(`property "${name}" failed (replay with FUZZ_SEED=${seed}):\n${(err as Error).message}`, { cause: err });
  }
}

/** Strings that tend to break decoders: unicode, control characters, huge numbers, JSON-ish text. */
export const nastyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  // Control characters inside otherwise ordinary text (U+0000 cannot be stored in PostgreSQL).
  fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom('\u0000', '\u0001', '\u001f', '\u007f', '\u2028', '\ufeff'), fc.string({ maxLength: 10 })).map(([a, c, b]) => `${a}${c}${b}`),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\n',
    '\r\n',
    '\\',
    '%',
    '%00',
    '%zz',
    '..',
    '../..',
    '-1',
    '0',
    '01',
    '1.5',
    '1e3',
    'NaN',
    'Infinity',
    '9007199254740993',
    '99999999999999999999',
    '__proto__',
    'constructor',
    'null',
    'true',
    '[]',
    '{}',
    '\u202e',
    '\ud800',
    '😀',
    'a'.repeat(300),
  ),
);

/** Any JSON value, including the awkward ones (deep nesting, big numbers, prototype keys). */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, true, 0, -1, 1.5, 1e308, '', [], {}, { __proto__: { polluted: 1 } }, JSON.parse('{"__proto__":{"x":1}}')) },
  { weight: 1, arbitrary: nastyString },
);

/** An id-ish value for a field: real ids of the world, near-misses, and junk. */
export function idValue(ids: readonly number[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(...ids),
    fc.constantFrom(...ids.map(String)),
    fc.integer({ min: -5, max: 100_000 }),
    fc.constantFrom<unknown>('0', '-1', '1.0', ' 1', '1 ', '0x1', '1e1', 1.5, null, true, [], {}, '9007199254740993', 9007199254740993, 2147483648, '999999999999999', 999999999999999),
    anyJson,
  );
}

/** Replaces lone surrogates (which `encodeURIComponent` refuses) with U+FFFD. */
export function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
