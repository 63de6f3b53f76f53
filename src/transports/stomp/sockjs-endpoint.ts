import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import sockjs from 'sockjs';
import type { DialectContext } from '../dialect.js';
import { redactUrl, tokenFromRequest } from '../shared/bearer-token.js';
import { bufferVerdict } from '../shared/ws-gateway.js';
import { closeSlowSockJs, sockjsBuffered } from './sockjs-backpressure.js';
import type { StompConnection } from './stomp-connection.js';
import type { StompWire } from './stomp-wire.js';

const SOCKJS_CLOSE_DELAY_MS = 250;

/** sockjs 0.3's request handler (what its `installHandlers` installs): true when the URL was its own. */
type SockJsHandler = (req: IncomingMessage, res: ServerResponse | Duplex, head?: Buffer) => boolean;

/**
 * SockJS under `<path>/...` (`/info`, `/<server>/<session>/xhr_streaming`, `/websocket`, …):
 * HTTP requests through a Fastify route, upgrades through the shared upgrade router, so no
 * listener of the HTTP server is replaced. Browsers cannot set headers, so the token comes in
 * CONNECT or `?token=`. `open` makes the STOMP session for each SockJS session.
 */
export function registerSockJs(ctx: DialectContext, path: string, open: (wire: StompWire, token: string | null) => StompConnection, closed: (conn: StompConnection) => void): void {
  const server = sockjs.createServer({
    prefix: path,
    log: (severity, line) => (severity === 'error' ? ctx.log.warn({ dialect: 'stomp', line: redactUrl(line) }, 'sockjs') : undefined),
    disconnect_delay: 5_000,
    heartbeat_delay: 25_000,
  });
  server.on('connection', (sock: sockjs.Connection | null) => {
    if (!sock) return;
    const conn = open(sockjsWire(sock, ctx.ws.maxBufferedBytes, () => conn.transportClosed()), tokenFromRequest({}, sock.url));
    // SockJS passes on each element of the client's JSON array as is: a non-string element is
    // not STOMP text, so it goes to the parser as its JSON (and gets a protocol ERROR).
    sock.on('data', (message: unknown) => conn.receive(typeof message === 'string' ? message : (JSON.stringify(message) ?? '')));
    sock.on('close', () => {
      conn.transportClosed();
      closed(conn);
    });
  });
  const handler = (server as unknown as { listener(): { getHandler(): SockJsHandler } }).listener().getHandler();

  const maxBody = ctx.settings.maxBodyBytes;
  ctx.app.route({
    method: ['GET', 'POST', 'OPTIONS'],
    url: `${path}/*`,
    schema: { hide: true },
    // Before Fastify reads the body: SockJS reads xhr_send bodies itself, and streams its answers.
    onRequest(request, reply, done) {
      // SockJS buffers xhr_send bodies whole: refuse declared oversize ones up front.
      if (Number(request.headers['content-length'] ?? 0) > maxBody) {
        void reply.code(413).header('connection', 'close').send({ error: 'Request body is too large' });
        return;
      }
      reply.hijack();
      if (!handler(request.raw, reply.raw)) reply.raw.writeHead(404).end();
      done();
    },
    handler() {
      // Never reached: every request is answered (or hijacked) in onRequest.
    },
  });
  ctx.upgrades.addPrefix(`${path}/`, (req, socket, head) => {
    // SockJS writes its own 404 to the raw socket; a peer gone by then must not crash the process.
    socket.on('error', () => socket.destroy());
    if (!handler(req, socket, head)) socket.destroy();
  });
}

/** Writes through SockJS under the same bound as the WebSocket gateway's. */
function sockjsWire(sock: sockjs.Connection, maxBufferedBytes: number, slow: () => void): StompWire {
  return {
    transport: 'sockjs',
    send: (data, ephemeral) => {
      if (sock.readyState !== 1) return false;
      // SockJS queues without bound (send_buffer, then the response stream).
      const verdict = bufferVerdict(sockjsBuffered(sock), maxBufferedBytes, ephemeral);
      if (verdict === 'close') {
        slow();
        closeSlowSockJs(sock);
        return false;
      }
      return verdict === 'send' && sock.write(typeof data === 'string' ? data : data.text) !== false;
    },
    // Polling transports flush on the next poll: give the last frames time to leave.
    close: (code, reason) => setTimeout(() => sock.close(code as unknown as string, reason), SOCKJS_CLOSE_DELAY_MS).unref(),
  };
}
