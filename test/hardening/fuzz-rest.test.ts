import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { anyJson, checkProperty, idValue, nastyString, startFuzzWorld, wellFormed, type FuzzWorld } from './support/fuzz-kit.js';
import { fillPath, routesFromOpenApi, type RouteSpec } from './support/openapi-routes.js';

/**
 * REST fuzzing over every route of the OpenAPI document: random path ids, query strings
 * (`limit`, `offset`, `since`, duplicates, junk), JSON bodies (schema fields with random values,
 * any JSON, malformed text, wrong content types) and multipart bodies. Properties: never a 5xx;
 * every 4xx is `{"error": string}`; an anonymous caller never succeeds on a protected route; a
 * caller outside the seeded chats never succeeds on them; nothing changes in the seeded chats.
 */

const PUBLIC = new Set(['GET /healthz', 'GET /readyz', 'GET /metrics', 'POST /auth/register', 'POST /auth/login', 'GET /uploads/{*}']);
const MULTIPART = new Set(['POST /api/v1/user', 'POST /api/v1/group', 'POST /api/chats/{chatId}/avatar']);
/** Path parameters that name a chat (the others name users or files). */
const chatParam = (route: RouteSpec, name: string): boolean =>
  name === 'chatId' || (name === 'id' && /\/(conversations|group)\/\{id\}|\/chat\/\{id\}\/info/.test(route.path));

type Caller = 'fuzzer' | 'outsider' | 'anonymous' | 'forged';

interface Case {
  route: RouteSpec;
  caller: Caller;
  params: Record<string, { raw: unknown; encoded: boolean }>;
  query: [string, string][];
  rawQuery: string | null;
  body: { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'text'; contentType: string; text: string } | { kind: 'multipart'; parts: Part[]; boundary: string; truncate: number };
  methodOverride: string | null;
}

interface Part {
  name: string;
  filename: string | null;
  contentType: string | null;
  content: Buffer;
}

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201e2213bc10000000049454e44ae426082', 'hex');

function multipartBody(parts: Part[], boundary: string, truncate: number): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== null) head += `; filename="${p.filename}"`;
    head += '\r\n';
    if (p.contentType !== null) head += `Content-Type: ${p.contentType}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`, 'latin1'), p.content, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  const all = Buffer.concat(chunks);
  return truncate > 0 ? all.subarray(0, Math.max(0, all.length - truncate)) : all;
}

/** Printable ASCII without quotes/CR/LF, so a header or a disposition field stays well-formed. */
const safeToken = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_./ ;=%'.split('')), maxLength: 16 });

describe.each(backends)('REST fuzzing on %s', (backend) => {
  let w: FuzzWorld;
  let routes: RouteSpec[];
  let before: string;

  beforeAll(async () => {
    w = await startFuzzWorld(backend, { env: { MAX_UPLOAD_BYTES: '4096', MAX_BODY_BYTES: '65536' } });
    routes = await routesFromOpenApi(w.t);
    before = await w.snapshot();
  });
  afterAll(async () => w?.close());

  function caseArb(route: RouteSpec): fc.Arbitrary<Case> {
    const users = [w.owner, w.member, w.fuzzer, w.outsider].map((u) => Number(u.id));
    const chats = [w.seeded, w.seededPrivate, w.sink];
    const fieldValue = fc.oneof(idValue([...chats, ...users]), anyJson, { weight: 2, arbitrary: nastyString }, fc.constantFrom('hello', 'group', 'add', 'remove', 'private', w.owner.id, w.outsider.id));
    const userList = fc.array(fc.oneof(fc.record({ id: idValue(users), name: nastyString }), idValue(users), anyJson), { maxLength: 3 });
    const part: fc.Arbitrary<Part> = fc.record({
      name: fc.oneof(fc.constantFrom('json', 'photo', 'file', 'avatar', ''), safeToken),
      filename: fc.option(fc.oneof(fc.constantFrom('a.png', 'x.gif', '../../etc/passwd', ''), safeToken), { nil: null }),
      contentType: fc.option(fc.constantFrom('application/json', 'image/png', 'text/plain', 'application/octet-stream', 'image/svg+xml', 'x/'), { nil: null }),
      content: fc.oneof(
        fc.record({ name: fieldValue, description: fieldValue, username: fieldValue, users: userList }, { requiredKeys: [] }).map((o) => Buffer.from(JSON.stringify(o))),
        anyJson.map((v) => Buffer.from(JSON.stringify(v) ?? 'undefined')),
        nastyString.map((s) => Buffer.from(s)),
        fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
        fc.integer({ min: 0, max: PNG.length }).map((n) => PNG.subarray(0, n)),
        fc.constant(PNG),
        fc.constant(Buffer.alloc(5000, 1)),
      ),
    });
    return fc
      .record({
        route: fc.constant(route),
        caller: fc.constantFrom<Caller>('fuzzer', 'fuzzer', 'fuzzer', 'outsider', 'anonymous', 'forged'),
        paramValues: fc.array(fc.record({ raw: fc.oneof({ weight: 2, arbitrary: fc.constantFrom(w.sink, String(w.sink)) }, idValue([...chats, ...users]), nastyString), encoded: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false)) }), { minLength: 2, maxLength: 2 }),
        query: fc.array(fc.tuple(fc.oneof(fc.constantFrom('limit', 'offset', 'since', 'beforeMessageId', 'token', 'access_token', 'limit[]', 'q', 'q'), nastyString), fc.oneof(nastyString, fc.integer({ min: -3, max: 500 }).map(String), fc.constantFrom('2024-01-15T10:30:00.000Z', '2024-13-45', '1710000000000', '2024-01-15T10:30:00.000+99:99'))), { maxLength: 4 }),
        rawQuery: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('limit=%', 'limit=%zz&offset=1', 'since=%E0%A4%A', '&&&', 'limit', '=1', 'a[b]=1&a[c]=2', 'limit=1&limit=2') }),
        body: fc.oneof(
          // The route's own body fields (from its schema) with random values: most requests get past validation.
          { weight: route.bodyProps.length > 0 ? 5 : 0, arbitrary: fc.record(Object.fromEntries(route.bodyProps.map((k) => [k, fc.oneof({ weight: 3, arbitrary: nastyString }, { weight: 2, arbitrary: fieldValue }, userList)]))).map((value) => ({ kind: 'json' as const, value })) },
          fc.constant({ kind: 'none' as const }),
          anyJson.map((value) => ({ kind: 'json' as const, value })),
          fc.dictionary(fc.constantFrom('body', 'content', 'type', 'replyToMessageId', 'participantIds', 'name', 'description', 'action', 'userId', 'users', 'username', 'password', 'email', 'json'), fc.oneof(fieldValue, userList)).map((value) => ({ kind: 'json' as const, value })),
          fc.record({ contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data', 'application/json; charset=latin1'), text: fc.oneof(nastyString, fc.constantFrom('{', '{"a":', '[1,2', '{"body":"x"', 'null', '""')) }).map((b) => ({ kind: 'text' as const, ...b })),
          fc.record({ parts: fc.array(part, { maxLength: 4 }), boundary: fc.constantFrom('fuzzboundary', 'x'), truncate: fc.constantFrom(0, 0, 0, 3, 20) }).map((b) => ({ kind: 'multipart' as const, ...b })),
        ),
        methodOverride: fc.oneof({ weight: 10, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('HEAD', 'OPTIONS', 'PATCH', 'PUT', 'DELETE', 'POST', 'GET') }),
      })
      .map(({ route, caller, paramValues, query, rawQuery, body, methodOverride }) => {
        const params: Case['params'] = {};
        route.pathParams.forEach((name, i) => {
          params[name] = paramValues[i % paramValues.length]!;
        });
        return { route, caller, params, query, rawQuery, body, methodOverride };
      });
  }

  async function run(c: Case): Promise<{ status: number; text: string; method: string; url: string }> {
    const values: Record<string, string> = {};
    for (const [name, { raw, encoded }] of Object.entries(c.params)) {
      const text = wellFormed(typeof raw === 'string' ? raw : JSON.stringify(raw) ?? 'undefined');
      // Unencoded values may hold '/', '?' or '#': the request then addresses another path, which is fine.
      values[name] = encoded || name === '*' ? encodeURIComponent(text) : text.replace(/[\s\u0000-\u001f]/g, '');
    }
    let url = fillPath(c.route.path, values);
    const search = c.rawQuery ?? new URLSearchParams(c.query).toString();
    if (search) url += `?${search}`;
    const headers: Record<string, string> = {};
    const token = c.caller === 'fuzzer' ? w.fuzzer.token : c.caller === 'outsider' ? w.outsider.token : c.caller === 'forged' ? 'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.' : null;
    if (token) headers['authorization'] = `Bearer ${token}`;
    const method = c.methodOverride ?? c.route.method;
    let body: Buffer | string | undefined;
    if (method !== 'GET' && method !== 'HEAD') {
      if (c.body.kind === 'json') {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(c.body.value) ?? 'null';
      } else if (c.body.kind === 'text') {
        headers['content-type'] = c.body.contentType;
        body = c.body.text;
      } else if (c.body.kind === 'multipart') {
        headers['content-type'] = `multipart/form-data; boundary=${c.body.boundary}`;
        body = multipartBody(c.body.parts, c.body.boundary, c.body.truncate);
      }
    }
    const res = await fetch(`${w.t.url}${url}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    return { status: res.status, text: await res.text(), method, url };
  }

  it('every route, any input: no 5xx, JSON errors, no access beyond membership, seeded chats untouched', async () => {
    const statuses = new Map<string, Map<number, number>>();
    // Every route gets its own bounded run (a route-wide pick would leave some barely touched).
    for (const [i, route] of routes.entries()) {
    await checkProperty(
      `rest ${route.key}`,
      fc.asyncProperty(caseArb(route), async (c) => {
        const { status, text, method, url } = await run(c);
        const seen = statuses.get(c.route.key) ?? new Map<number, number>();
        seen.set(status, (seen.get(status) ?? 0) + 1);
        statuses.set(c.route.key, seen);
        const where = `${method} ${url} as ${c.caller} -> ${status} ${text.slice(0, 200)}`;
        expect(status, where).toBeLessThan(500);
        if (status >= 400 && method !== 'HEAD') {
          let parsed: unknown;
          expect(() => (parsed = JSON.parse(text)), where).not.toThrow();
          expect(typeof (parsed as { error?: unknown }).error, where).toBe('string');
          expect(text, where).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack traces
        }
        const sameRoute = (c.methodOverride ?? c.route.method) === c.route.method && c.rawQuery === null;
        if (sameRoute && status < 300 && !PUBLIC.has(c.route.key)) {
          expect(['anonymous', 'forged'], `${where}: succeeded without a valid token`).not.toContain(c.caller);
          for (const [name, { raw, encoded }] of Object.entries(c.params)) {
            if (!encoded || !chatParam(c.route, name)) continue;
            const id = String(raw);
            expect([String(w.seeded), String(w.seededPrivate)], `${where}: reached a chat it is not in`).not.toContain(id);
          }
        }
        await w.restoreSink();
      }),
      // Register and login hash passwords (scrypt): fewer runs keep the file bounded.
      { seed: 0x5e57 + i, numRuns: route.path.startsWith('/auth/') ? 15 : 40 },
    );
    }
    if (process.env['FUZZ_VERBOSE']) for (const [k, v] of statuses) console.log(k, JSON.stringify([...v]));
    await w.assertHealthy(before);
    // Every route was exercised (the table comes from the OpenAPI document).
    for (const route of routes) expect(statuses.has(route.key), `${route.key} never fuzzed`).toBe(true);
  }, 120_000);

  it('multipart profile and group forms: no 5xx; a refused form creates nothing', async () => {
    const seen = new Map<number, number>();
    await checkProperty(
      'rest-multipart',
      fc.asyncProperty(
        fc.constantFrom('/api/v1/user', '/api/v1/group', 'avatar'),
        fc.array(
          fc.record({
            name: fc.constantFrom('json', 'photo', 'file', 'json', 'photo'),
            filename: fc.option(fc.constantFrom('p.png', 'x', ''), { nil: null }),
            contentType: fc.option(fc.constantFrom('application/json', 'image/png', 'text/plain'), { nil: null }),
            content: fc.oneof(
              fc.record({ name: fc.oneof(nastyString, anyJson), description: fc.oneof(nastyString, anyJson), username: fc.oneof(nastyString, anyJson), users: fc.oneof(anyJson, fc.array(fc.record({ id: idValue([Number(w.owner.id), Number(w.outsider.id)]) }), { maxLength: 2 })) }, { requiredKeys: [] }).map((o) => Buffer.from(JSON.stringify(o))),
              fc.constant(PNG),
              fc.integer({ min: 0, max: 30 }).map((n) => PNG.subarray(0, n)),
              fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b)),
              fc.constant(Buffer.alloc(6000, 0x89)),
            ),
          }),
          { maxLength: 4 },
        ),
        fc.constantFrom(0, 0, 7),
        async (path, parts, truncate) => {
          const target = path === 'avatar' ? `/api/chats/${w.sink}/avatar` : path;
          const groupsBefore = (await w.t.server.core.listChats(w.fuzzer.id, { limit: null, offset: 0 })).length;
          const res = await fetch(`${w.t.url}${target}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${w.fuzzer.token}`, 'content-type': 'multipart/form-data; boundary=b0undary' },
            body: multipartBody(parts, 'b0undary', truncate),
          });
          const text = await res.text();
          seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
          expect(res.status, `${target} -> ${text}`).toBeLessThan(500);
          if (res.status >= 400) {
            expect(typeof JSON.parse(text).error).toBe('string');
            const groupsAfter = (await w.t.server.core.listChats(w.fuzzer.id, { limit: null, offset: 0 })).length;
            expect(groupsAfter, `a refused ${target} created a chat`).toBe(groupsBefore);
          }
        },
      ),
      { seed: 0xf0a4, numRuns: 120 },
    );
    await w.assertHealthy(before);
    // The generators reach both outcomes.
    expect([...seen.keys()].some((s) => s < 300)).toBe(true);
    expect([...seen.keys()].some((s) => s >= 400)).toBe(true);
  }, 60_000);
});
