import { channelsDoc } from './channels-asyncapi.js';
import { hubDoc } from './hub-asyncapi.js';
import type { ChannelDoc, DialectDoc, WireMessageDoc } from './realtime-doc.js';
import { roomsDoc } from './rooms-asyncapi.js';
import { socketioDoc } from './socketio-asyncapi.js';
import { stompDoc } from './stomp-asyncapi.js';

/** Every dialect's realtime half, in the order the server registers them. */
export const realtimeDialects: readonly DialectDoc[] = [hubDoc, roomsDoc, channelsDoc, stompDoc, socketioDoc];

export interface DocumentOptions {
  /** `host[:port]` clients connect to. */
  readonly host: string;
  /** `wss` / `https` rather than `ws` / `http`. */
  readonly secure: boolean;
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

const ref = (path: string): { $ref: string } => ({ $ref: path });

function closeCodeTable(channel: ChannelDoc): string {
  if (!channel.closeCodes?.length) return '';
  const rows = channel.closeCodes.map((c) => `| \`${c.code}\` | ${c.reason ? `\`${c.reason}\`` : ''} | ${c.when} |`);
  return `\n\n**Close codes**\n\n| code | reason | when |\n|---|---|---|\n${rows.join('\n')}`;
}

/** The operation's id: the message's name, plus the channel when the message is on several. */
function operationId(message: WireMessageDoc, channel: string): string {
  return `${message.action}${cap(message.name)}${message.channels.length > 1 ? `On${cap(channel)}` : ''}`;
}

const securitySchemes = {
  bearerHeader: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: '`Authorization: Bearer <jwt>` on the WebSocket upgrade (non-browser clients; Socket.IO `extraHeaders`).' },
  tokenQuery: { type: 'httpApiKey', in: 'query', name: 'token', description: '`?token=<jwt>` on the connection URL (browsers cannot set headers on a WebSocket).' },
  accessTokenQuery: { type: 'httpApiKey', in: 'query', name: 'access_token', description: '`?access_token=<jwt>` on the connection URL.' },
  stompConnectHeader: { type: 'httpApiKey', in: 'header', name: 'Authorization', description: 'STOMP `CONNECT` header `Authorization: Bearer <jwt>` (or `token: <jwt>`); read before the handshake’s carriers.' },
  socketioAuthToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Socket.IO handshake `auth: {token: "<jwt>"}` (the `Bearer ` prefix is optional); read first.' },
} as const;

const description = `Every realtime protocol of polychat, one server and one port: five dialects over one shared domain, so a message sent through any of them reaches the live connections of all.

| dialect | connect to | prose |
|---|---|---|
| hub | \`/api/v1/ws\` | docs/dialects/hub.md |
| rooms | \`/api/v1/chat/{id}\`, \`/api/v1/group/{id}\`, \`/api/v1/main\` | docs/dialects/rooms.md |
| channels | \`/ws/chat/{chat_id}/\` | docs/dialects/channels.md |
| stomp | \`/ws-chat\` (WebSocket), \`/ws-chat/…\` (SockJS) | docs/dialects/stomp.md |
| socketio | \`/socket.io/\` | docs/dialects/socketio.md |

Every connection needs a JWT (the same token as the REST API): see each server’s security and each channel’s description. Operations are from the server’s point of view: **send** is server → client, **receive** is client → server. Close codes are in each channel’s description (and \`x-close-codes\`). The REST half is at [/docs](/docs) ([/openapi.json](/openapi.json)).`;

/**
 * One AsyncAPI 3.0 document for the realtime half of every dialect, built from the dialects'
 * entries (whose examples are rendered by the dialects' own encoders).
 */
export function buildAsyncApiDocument(options: DocumentOptions, dialects: readonly DialectDoc[] = realtimeDialects): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const channelDialect = new Map<string, string>();

  for (const dialect of dialects) {
    for (const channel of dialect.channels) {
      channelDialect.set(channel.key, dialect.name);
      const ownMessages = dialect.messages.filter((m) => m.channels.includes(channel.key));
      channels[channel.key] = {
        address: channel.address,
        title: channel.title,
        description: channel.description + closeCodeTable(channel),
        servers: [ref(`#/servers/${channel.server}`)],
        messages: Object.fromEntries(ownMessages.map((m) => [m.name, ref(`#/components/messages/${m.name}`)])),
        ...(channel.parameters ? { parameters: Object.fromEntries(Object.entries(channel.parameters).map(([name, text]) => [name, { description: text }])) } : {}),
        ...(channel.server === 'ws' ? { bindings: { ws: { method: 'GET', ...(channel.query ? { query: channel.query } : {}), bindingVersion: '0.1.0' } } } : {}),
        tags: [{ name: dialect.name }],
        ...(channel.closeCodes ? { 'x-close-codes': channel.closeCodes } : {}),
      };
    }
    for (const message of dialect.messages) {
      if (messages[message.name]) throw new Error(`duplicate AsyncAPI message name ${message.name}`);
      messages[message.name] = {
        name: message.frameType,
        title: message.title,
        summary: message.summary,
        ...(message.description ? { description: message.description } : {}),
        contentType: message.contentType ?? 'application/json',
        ...(message.headers ? { headers: message.headers } : {}),
        payload: message.payload,
        tags: [{ name: dialect.name }],
        examples: [message.example, ...(message.moreExamples ?? [])].map((payload, i) => ({ name: i === 0 ? message.frameType : `${message.frameType}-${i + 1}`, payload })),
      };
    }
  }

  for (const dialect of dialects) {
    for (const message of dialect.messages) {
      for (const channel of message.channels) {
        if (!channelDialect.has(channel)) throw new Error(`message ${message.name} names an unknown channel ${channel}`);
        const operation: Record<string, unknown> = {
          action: message.action,
          channel: ref(`#/channels/${channel}`),
          title: `${message.action === 'send' ? 'Server sends' : 'Client sends'} ${message.title}`,
          summary: message.summary,
          messages: [ref(`#/channels/${channel}/messages/${message.name}`)],
          tags: [{ name: dialect.name }],
        };
        if (message.reply) {
          const answer = dialect.messages.find((m) => m.name === message.reply);
          if (!answer) throw new Error(`message ${message.name} names an unknown reply ${message.reply}`);
          const replyChannel = answer.channels[0]!;
          operation['reply'] = { channel: ref(`#/channels/${replyChannel}`), messages: [ref(`#/channels/${replyChannel}/messages/${answer.name}`)] };
        }
        operations[operationId(message, channel)] = operation;
      }
    }
  }

  const ws = options.secure ? 'wss' : 'ws';
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'polychat realtime API',
      version: '0.1.0',
      description,
      license: { name: 'MIT' },
      tags: dialects.map((d) => ({ name: d.name, description: d.description })),
      externalDocs: { description: 'REST API (OpenAPI)', url: `${options.secure ? 'https' : 'http'}://${options.host}/docs` },
    },
    defaultContentType: 'application/json',
    servers: {
      ws: {
        host: options.host,
        protocol: ws,
        title: 'Plain WebSocket (hub, rooms, channels)',
        description: 'JSON text frames over RFC 6455 WebSockets on the server’s one port.',
        security: [ref('#/components/securitySchemes/bearerHeader'), ref('#/components/securitySchemes/tokenQuery'), ref('#/components/securitySchemes/accessTokenQuery')],
      },
      stomp: {
        host: options.host,
        pathname: '/ws-chat',
        protocol: 'stomp',
        protocolVersion: '1.2',
        title: 'STOMP over WebSocket or SockJS (stomp)',
        description: `STOMP 1.2 / 1.1 / 1.0 frames over \`${ws}://${options.host}/ws-chat\` (subprotocol \`v12.stomp\`) or SockJS at \`${options.secure ? 'https' : 'http'}://${options.host}/ws-chat\`. Channels of this server are STOMP destinations.`,
        security: [ref('#/components/securitySchemes/stompConnectHeader'), ref('#/components/securitySchemes/bearerHeader'), ref('#/components/securitySchemes/tokenQuery'), ref('#/components/securitySchemes/accessTokenQuery')],
      },
      socketio: {
        host: options.host,
        pathname: '/socket.io/',
        protocol: ws,
        title: 'Socket.IO v4 (socketio)',
        description: 'Socket.IO 4 / Engine.IO 4 at `/socket.io/`, websocket or HTTP long-polling; channels of this server are namespaces and messages are events.',
        security: [ref('#/components/securitySchemes/socketioAuthToken'), ref('#/components/securitySchemes/bearerHeader'), ref('#/components/securitySchemes/tokenQuery'), ref('#/components/securitySchemes/accessTokenQuery')],
      },
    },
    channels,
    operations,
    components: { messages, securitySchemes },
  };
}
