import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import sockjs from 'sockjs';
import type { Dialect, DialectContext } from '../dialect.js';
import { redactUrl, tokenFromRequest } from '../shared/bearer-token.js';
import { bufferVerdict, CLOSE_SLOW_CONSUMER, sendBounded } from '../shared/ws-gateway.js';
import { StompConnection, type StompDeps, type StompOptions } from './stomp-connection.js';
import { registerStompEditRoutes } from './stomp-edit-routes.js';
import { registerStompRestRoutes } from './stomp-rest-routes.js';
import { rawToBuffer } from '../shared/raw-data.js';
import type { RawData } from 'ws';

export const STOMP_PATH = '/ws-chat';
const SOCKJS_CLOSE_DELAY_MS = 250;

type Listener = (...args: unknown[]) => void;

/** True for SockJS URLs (`/ws-chat/info`, `/ws-chat/<server>/<session>/xhr`, …), not `/ws-chat` itself. */
function isSockJsPath(url: string | undefined): boolean {
  const path = (url ?? '/').split('?')[0] ?? '/';
  return path.startsWith(`${STOMP_PATH}/`);
}

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

      // SockJS under /ws-chat/...: browsers cannot set headers, so the token comes in CONNECT or ?token=.
      const server = sockjs.createServer({
        prefix: STOMP_PATH,
        log: (severity, line) => (severity === 'error' ? ctx.log.warn({ dialect: 'stomp', line: redactUrl(line) }, 'sockjs') : undefined),
        disconnect_delay: 5_000,
        heartbeat_delay: 25_000,
      });
      server.on('connection', (sock: sockjs.Connection | null) => {
        if (!sock) return;
        const conn = track(
          new StompConnection(
            deps,
            {
              transport: 'sockjs',
              send: (data, ephemeral) => {
                if (sock.readyState !== 1) return false;
                // SockJS queues without bound (send_buffer, then the response stream): same cap as the gateway's.
                const verdict = bufferVerdict(sockjsBuffered(sock), ctx.ws.maxBufferedBytes, ephemeral);
                if (verdict === 'close') {
                  conn.transportClosed();
                  closeSlowSockJs(sock);
                  return false;
                }
                return verdict === 'send' && sock.write(data) !== false;
              },
              // Polling transports flush on the next poll: give the last frames time to leave.
              close: (code, reason) => setTimeout(() => sock.close(code as unknown as string, reason), SOCKJS_CLOSE_DELAY_MS).unref(),
            },
            tokenFromRequest({}, sock.url),
          ),
        );
        // SockJS passes on each element of the client's JSON array as is: a non-string element is
        // not STOMP text, so it goes to the parser as its JSON (and gets a protocol ERROR).
        sock.on('data', (message: unknown) => conn.receive(typeof message === 'string' ? message : (JSON.stringify(message) ?? '')));
        sock.on('close', () => {
          conn.transportClosed();
          connections.delete(conn);
        });
      });
      // Route /ws-chat/... requests and upgrades to SockJS; everything else keeps its listeners.
      const handler = (server as unknown as { listener(): { getHandler(): (req: IncomingMessage, res: unknown, head?: Buffer) => boolean } }).listener().getHandler();
      const http = ctx.app.server;
      const previous = http.listeners('request') as Listener[];
      http.removeAllListeners('request');
      const maxBody = ctx.settings.maxBodyBytes;
      http.on('request', function (this: unknown, req: IncomingMessage, res: ServerResponse) {
        if (isSockJsPath(req.url)) {
          // SockJS buffers xhr_send bodies whole: refuse declared oversize ones up front.
          if (Number(req.headers['content-length'] ?? 0) > maxBody) {
            res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
            res.end(JSON.stringify({ error: 'Request body is too large' }));
            return;
          }
          if (handler(req, res)) return;
        }
        for (const listener of previous) listener.call(this, req, res);
      });
      ctx.upgrades.claim((path) => path.startsWith(`${STOMP_PATH}/`));
      http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (!isSockJsPath(req.url)) return;
        // SockJS writes its own 404 to the raw socket; a peer gone by then must not crash the process.
        socket.on('error', () => socket.destroy());
        if (!handler(req, socket, head)) socket.destroy();
      });
    },
    async close() {
      for (const conn of [...connections]) conn.close(1001, 'server shutting down');
      connections.clear();
    },
  };
}

interface SockJsInternals {
  _session?: { send_buffer?: string[]; recv?: { connection?: { writableLength?: number }; response?: { connection?: { writableLength?: number } } } | null };
}

/** Bytes SockJS holds for this client: its session's unsent frames plus the transport socket's queue. */
function sockjsBuffered(sock: sockjs.Connection): number {
  const session = (sock as unknown as SockJsInternals)._session;
  if (!session) return 0;
  let n = 0;
  for (const frame of session.send_buffer ?? []) n += frame.length;
  const recv = session.recv;
  const socket = recv?.connection ?? recv?.response?.connection;
  if (socket && typeof socket.writableLength === 'number') n += socket.writableLength;
  return n;
}

/** 1013 like the WebSocket dialects; a peer that reads nothing will not read the close either. */
function closeSlowSockJs(sock: sockjs.Connection): void {
  const session = (sock as unknown as SockJsInternals)._session;
  const recv = session?.recv;
  const socket = (recv?.connection ?? recv?.response?.connection) as { destroy?: () => void } | undefined;
  sock.close(CLOSE_SLOW_CONSUMER as unknown as string, 'slow consumer');
  setTimeout(() => socket?.destroy?.(), 1000).unref();
}
