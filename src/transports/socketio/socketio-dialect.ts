import { Server, type Socket } from 'socket.io';
import { describeError } from '../../domain/errors.js';
import type { User } from '../../domain/user.js';
import type { Logger } from '../../ports/logger.js';
import type { Dialect, DialectContext } from '../dialect.js';
import { connectRefusal, toErrorAck } from './socketio-errors.js';
import { eventHandlers, type EventContext } from './event-handlers.js';
import { handshakeToken } from './handshake-token.js';
import { emitPrepared, preparePacket } from './prepared-packet.js';
import { SocketIoSession, type SocketIoSink } from './socketio-session.js';

const PATH = '/socket.io/';

type Ack = (response: unknown) => void;
const noAck: Ack = () => {};

/**
 * Socket.IO v4 on the shared HTTP server and port, default path. No Socket.IO adapter: each
 * socket is a `Session` in the registry, so cross-instance delivery is the project's one bus.
 */
export function socketioDialect(): Dialect {
  let io: Server | null = null;

  return {
    name: 'socketio',
    register(ctx: DialectContext) {
      ctx.upgrades.claim((path) => path.startsWith(PATH));
      io = new Server(ctx.app.server, {
        path: PATH.slice(0, -1),
        serveClient: false,
        // The shared upgrade router answers (or leaves) every other path; engine.io must not
        // destroy upgrades it does not own.
        destroyUpgrade: false,
        maxHttpBufferSize: ctx.settings.maxFrameBytes,
        // SPEC: a dead connection is found within 30 s (ping every 20 s, 10 s to answer).
        pingInterval: 20_000,
        pingTimeout: 10_000,
        // HANDSHAKE_TIMEOUT_MS: an engine.io connection that never sends its Socket.IO CONNECT
        // (where the token travels) is closed after this long.
        connectTimeout: ctx.settings.handshakeTimeoutMs,
        // Browsers on any origin may connect: auth is a bearer token, never a cookie.
        cors: { origin: true, credentials: false },
      });
      io.use((socket, next) => {
        authenticateSocket(ctx, socket).then(
          (user) => {
            socket.data.user = user;
            next();
          },
          (err: unknown) => {
            const refusal = connectRefusal(err);
            // An outage is not the token's fault (and was logged where it was detected).
            if (refusal.data.code === 'unauthorized') ctx.log.info({ reason: describeError(err).message, address: socket.handshake.address }, 'auth failure');
            next(refusal);
          },
        );
      });
      io.on('connection', (socket) => onConnection(ctx, socket));
    },
    async close() {
      if (!io) return;
      // Not `io.close()`: it would also close the shared HTTP server, which the app closes
      // itself once every dialect has stopped. This is the rest of what it does.
      io.disconnectSockets(true);
      io.engine.close();
      io = null;
    },
  };
}

async function authenticateSocket(ctx: DialectContext, socket: Socket): Promise<User> {
  return ctx.core.authenticate(handshakeToken(socket.handshake));
}

function onConnection(ctx: DialectContext, socket: Socket): void {
  const user = socket.data.user as User;
  const sink: SocketIoSink = {
    emit: (event, payload) => socket.emit(event, payload),
    prepare: (event, payload) => preparePacket(socket.nsp, event, payload),
    emitPrepared: (packet) => emitPrepared(socket, packet),
    disconnect: (close) => {
      socket.disconnect(close);
      // engine.io waits for its write buffer to drain before closing, which a peer that reads
      // nothing never lets happen: drop the transport a second later (as the gateway does).
      setTimeout(() => {
        const conn = socket.conn as unknown as { readyState: string; transport?: { socket?: { terminate?: () => void } } };
        if (conn.readyState !== 'closed') conn.transport?.socket?.terminate?.();
      }, 1000).unref();
    },
    backlog: () => queuedPackets(socket),
    backlogBytes: () => queuedBytes(socket),
  };
  const session = new SocketIoSession(ctx.registry.newSessionId(), user.id, sink, ctx.ws.maxBufferedBytes);
  const events: EventContext = { core: ctx.core, user, session };
  const log = ctx.log.child({ userId: user.id, sessionId: session.id });
  const added = ctx.registry.add(session);
  socket.on('disconnect', () => {
    void added.then(() => ctx.registry.remove(session));
  });
  socket.onAny((event: string, ...args: unknown[]) => {
    if (eventHandlers.has(event)) return;
    const ack = args.at(-1);
    if (typeof ack === 'function') (ack as Ack)({ success: false, error: `Unknown event: ${event}`, code: 'bad_request' });
  });
  for (const [event, handler] of eventHandlers) {
    socket.on(event, (...args: unknown[]) => {
      const last = args.at(-1);
      const ack = typeof last === 'function' ? (args.pop() as Ack) : noAck;
      handler(events, args[0]).then(ack, (err: unknown) => ack(failure(log, event, err)));
    });
  }
}

/** engine.io keeps unsent packets in `writeBuffer` (not in its public types); 0 if that changes. */
function queuedPackets(socket: Socket): number {
  const buffer = (socket.conn as unknown as { writeBuffer?: unknown }).writeBuffer;
  return Array.isArray(buffer) ? buffer.length : 0;
}

/** engine.io's queued packet data plus what the websocket transport's socket still holds. */
function queuedBytes(socket: Socket): number {
  const conn = socket.conn as unknown as { writeBuffer?: { data?: unknown }[]; transport?: { socket?: { bufferedAmount?: number } } };
  let n = 0;
  if (Array.isArray(conn.writeBuffer)) for (const p of conn.writeBuffer) if (typeof p.data === 'string') n += p.data.length;
  const ws = conn.transport?.socket;
  if (ws && typeof ws.bufferedAmount === 'number') n += ws.bufferedAmount;
  return n;
}

function failure(log: Logger, event: string, err: unknown): unknown {
  const ack = toErrorAck(err);
  if (ack.code === 'internal') log.error({ event, err: (err as Error)?.message }, 'socket.io event failed');
  else if (ack.code === 'forbidden') log.info({ event }, 'access denied');
  else log.debug({ event, code: ack.code }, 'socket.io event refused');
  return ack;
}
