import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_EVENT_TYPES } from '../../../src/transports/hub/hub-client-frames.js';
import { eventHandlers } from '../../../src/transports/socketio/event-handlers.js';
import { startServer, type TestServer } from '../../support/test-server.js';
import { compileDocument, describedOn, type ServedDocument } from './asyncapi-schemas.js';

const source = (path: string): string => readFileSync(new URL(`../../../src/transports/${path}`, import.meta.url), 'utf8');
const all = (text: string, pattern: RegExp): string[] => [...text.matchAll(pattern)].map((m) => m[1]!);
/** Every string literal in the expression after `type:` (a constant, a ternary, a union type). */
const typeLiterals = (text: string): string[] => [...text.matchAll(/\btype: ([^,\n}]+)/g)].flatMap((m) => all(m[1]!, /'([a-z_]+)'/g));

describe('GET /asyncapi.json', () => {
  let t: TestServer;
  let doc: ServedDocument & Record<string, any>;

  beforeAll(async () => {
    t = await startServer('sqlite');
    const res = await fetch(`${t.url}/asyncapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    doc = (await res.json()) as typeof doc;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is an AsyncAPI 3.0 document that @asyncapi/parser accepts without errors', async () => {
    expect(doc['asyncapi']).toBe('3.0.0');
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
    const errors = diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('.')}: ${d.message}`);
    expect(errors).toEqual([]);
    expect(document).toBeDefined();
    expect(document!.channels().length).toBe(Object.keys(doc.channels).length);
    expect(document!.operations().length).toBe(Object.keys(doc.operations).length);
  });

  it('names the host the client used in every server', () => {
    const host = new URL(t.url).host;
    for (const server of Object.values(doc['servers'] as Record<string, { host: string }>)) expect(server.host).toBe(host);
  });

  it('has a channel for every realtime mount point of every dialect', () => {
    const addresses = Object.values(doc.channels).map((c) => c.address);
    expect(addresses).toEqual(
      expect.arrayContaining([
        '/api/v1/ws',
        '/api/v1/chat/{id}',
        '/api/v1/group/{id}',
        '/api/v1/main',
        '/ws/chat/{chat_id}/',
        '/ws-chat',
        '/app/chat/{chatId}/sendMessage',
        '/app/chat/{chatId}/typing',
        '/app/chat/{chatId}/loadHistory',
        '/topic/chat/{chatId}',
        '/user/queue/notifications',
        '/user/queue/history',
        '/user/queue/errors',
        '/',
      ]),
    );
  });

  it('gives every example a payload its own schema accepts', () => {
    const messages = compileDocument(doc);
    for (const [name, message] of Object.entries(doc.components.messages)) {
      const described = messages.find((m) => m.name === name);
      expect(described, `${name} is used by an operation`).toBeDefined();
      expect(message.examples.length).toBeGreaterThan(0);
      for (const example of message.examples) {
        const ok = described!.payload(example.payload);
        expect(ok, `${name} example: ${JSON.stringify(described!.payload.errors)}`).toBe(true);
      }
    }
  });

  it('rejects a frame with a field the server does not send', () => {
    const messages = compileDocument(doc);
    const hubMessage = describedOn(messages, 'hub', 'send', 'message')!;
    const example = doc.components.messages['hubMessage']!.examples[0]!.payload as { data: object };
    expect(hubMessage.payload(example)).toBe(true);
    expect(hubMessage.payload({ ...example, data: { ...example.data, surprise: 1 } })).toBe(false);
  });

  // The encoders' own literals: a frame type added to an encoder fails here until it is described.
  it('describes every frame type the encoders can send', () => {
    const messages = compileDocument(doc);
    const expectSent = (channel: string, types: string[]): void => {
      expect(types.length).toBeGreaterThan(0);
      for (const type of new Set(types)) expect(describedOn(messages, channel, 'send', type), `${channel} sends ${type}`).toBeDefined();
    };
    expectSent('hub', [...all(source('hub/hub-session.ts'), /encodeFrame\('([a-z_]+)'/g), ...all(source('hub/hub-wire.ts'), /encodeFrame\('([a-z_]+)'/g)]);
    expectSent('roomsChat', [...typeLiterals(source('rooms/rooms-chat-session.ts')), ...typeLiterals(source('rooms/rooms-frames.ts'))].filter((type) => type !== 'last_message'));
    expectSent('roomsMain', ['last_message', ...typeLiterals(source('rooms/rooms-frames.ts'))]);
    for (const type of new Set(typeLiterals(source('rooms/rooms-wire.ts')))) {
      expect(['roomsChat', 'roomsMain'].some((channel) => describedOn(messages, channel, 'send', type)), `rooms sends ${type}`).toBe(true);
    }
    expectSent('channelsChat', typeLiterals(source('channels/channels-wire.ts')));
    // Envelope and notification types: the first argument of `envelope(…)` or the value of `type:`.
    const stompTypes = (text: string): string[] => [...text.matchAll(/(?:envelope\(|\btype: )([^,\n]+)/g)].flatMap((m) => all(m[1]!, /'([A-Z][A-Z_]+)'/g));
    const stompBodies = [...stompTypes(source('stomp/stomp-events.ts')), ...stompTypes(source('stomp/stomp-app-destinations.ts'))];
    expect(stompBodies.length).toBeGreaterThan(5);
    for (const type of new Set(stompBodies)) {
      const onSomeDestination = ['stompTopicChat', 'stompUserNotifications', 'stompUserHistory'].some((channel) => describedOn(messages, channel, 'send', type));
      expect(onSomeDestination, `stomp sends ${type}`).toBe(true);
    }
    expectSent('stompSession', ['stomp-connection.ts', 'stomp-errors.ts'].flatMap((file) => all(source(`stomp/${file}`), /encodeFrame\('([A-Z]+)'/g)));
    expectSent('socketio', all(source('socketio/socketio-session.ts'), /(?:emit|prepare)\('([a-z_]+)'/g));
  });

  it('describes every frame type the decoders accept, and no other', () => {
    const messages = compileDocument(doc);
    const received = (channel: string): string[] => messages.filter((m) => m.channel === channel && m.action === 'receive').map((m) => m.frameType).sort();
    expect(received('hub')).toEqual([...CLIENT_EVENT_TYPES].sort());
    expect(received('channelsChat')).toEqual(all(source('channels/client-frame.ts'), /case '([a-z_]+)':/g).sort());
    const roomsSession = source('rooms/rooms-chat-session.ts');
    expect(received('roomsChat')).toEqual(all(roomsSession.slice(roomsSession.indexOf('private async process')), /case '([a-z_]+)':/g).sort());
    expect(received('roomsGroup')).toEqual(received('roomsChat'));
    expect(received('roomsMain')).toEqual([]);
    const appActions = /\(sendMessage\|typing\|loadHistory\|editMessage\|deleteMessage\)/.exec(source('stomp/stomp-app-destinations.ts'));
    expect(appActions).not.toBeNull();
    expect([...received('stompSendMessage'), ...received('stompTyping'), ...received('stompLoadHistory'), ...received('stompEditMessage'), ...received('stompDeleteMessage')].sort()).toEqual([
      'deleteMessage',
      'editMessage',
      'loadHistory',
      'sendMessage',
      'typing',
    ]);
    expect(received('socketio')).toEqual([...eventHandlers.keys()].sort());
    for (const event of eventHandlers.keys()) expect(describedOn(messages, 'socketio', 'send', `ack:${event}`), `${event} ack`).toBeDefined();
  });

  it('serves the page at /docs/realtime with its viewer from this server', async () => {
    const res = await fetch(`${t.url}/docs/realtime`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((url) => !url.startsWith('data:'));
    expect(assets.length).toBe(3);
    for (const asset of assets) {
      expect(asset.startsWith('/docs/realtime/')).toBe(true);
      const file = await fetch(`${t.url}${asset}`);
      expect(file.status, asset).toBe(200);
      expect((await file.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
    // The REST reference links here.
    const openapi = (await (await fetch(`${t.url}/openapi.json`)).json()) as { info: { description: string }; externalDocs?: { url: string } };
    expect(openapi.externalDocs?.url).toBe('/docs/realtime');
    expect(openapi.info.description).toContain('/docs/realtime');
  });
});
