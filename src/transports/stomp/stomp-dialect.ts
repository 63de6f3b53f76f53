import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dialect, DialectContext } from '../dialect.js';
import { tokenFromRequest } from '../shared/bearer-token.js';
import { sendBounded } from '../shared/ws-gateway.js';
import { registerSockJs } from './sockjs-endpoint.js';
import { StompConnection, type StompDeps, type StompOptions } from './stomp-connection.js';
import { registerStompEditRoutes } from './stomp-edit-routes.js';
import { registerStompRestRoutes } from './stomp-rest-routes.js';
import { rawToBuffer } from '../shared/raw-data.js';
import type { RawData } from 'ws';

export const STOMP_PATH = '/ws-chat';

/**
 * The `stomp` dialect: REST under `/api/chats`, and STOMP 1.2 at `/ws-chat` over a plain
 * WebSocket (exact path) and over SockJS (`/ws-chat/...`). Options exist for tests
 * (shorter heart-beats and timeouts).
 */
export function stompDialect(overrides: Partial<Omit<StompOptions, 'maxFrameBytes'>> = {}): Dialect {
  const connections = new Set<StompConnection>();
  return {
    name: 'stomp',
    register(ctx: DialectContext) {
      const options: StompOptions = {
        heartbeatMs: 10_000,
        incompleteFrameMs: 2_000,
        connectTimeoutMs: ctx.settings.handshakeTimeoutMs,
        ...overrides,
        maxFrameBytes: ctx.settings.maxFrameBytes,
      };
      const deps: StompDeps = { core: ctx.core, registry: ctx.registry, log: ctx.log, options };
      registerStompRestRoutes(ctx.app, ctx.core, ctx.authenticate);
      registerStompEditRoutes(ctx.app, ctx.core, ctx.authenticate);
      const track = (conn: StompConnection): StompConnection => {
        connections.add(conn);
        return conn;
      };

      // Plain STOMP over WebSocket at exactly /ws-chat (the shared gateway picks v1x.stomp).
      ctx.upgrades.add(STOMP_PATH, (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        void ctx.ws.upgrade(req, socket, head).then((ws) => {
          const conn = track(
            new StompConnection(
              deps,
              {
                transport: 'websocket',
                send: (data, ephemeral) => sendBounded(ws, data, ephemeral),
                close: (code, reason) => ws.close(code, reason),
              },
              tokenFromRequest(req.headers, req.url),
            ),
          );
          ws.on('message', (data: RawData) => conn.receive(rawToBuffer(data)));
          ws.on('close', () => {
            conn.transportClosed();
            connections.delete(conn);
          });
        });
      });

      registerSockJs(ctx, STOMP_PATH, (wire, token) => track(new StompConnection(deps, wire, token)), (conn) => connections.delete(conn));
    },
    async close() {
      for (const conn of [...connections]) conn.close(1001, 'server shutting down');
      connections.clear();
    },
  };
}
