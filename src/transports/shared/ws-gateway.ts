import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { PreparedFrame, writePrepared } from './prepared-frame.js';

/** Default cap on bytes queued for one connection (MAX_BUFFERED_BYTES). */
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
export const CLOSE_SLOW_CONSUMER = 1013;

interface BufferLimits {
  /** Above this many queued bytes ephemeral events (typing, presence) are dropped. */
  readonly soft: number;
  /** Above this the connection is closed as a slow consumer; it catches up by seq later. */
  readonly hard: number;
}

const limitsOf = new WeakMap<WebSocket, BufferLimits>();
const defaultLimits: BufferLimits = { soft: DEFAULT_MAX_BUFFERED_BYTES / 8, hard: DEFAULT_MAX_BUFFERED_BYTES };

const STOMP_PROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp'];

/**
 * The one `ws` server behind every plain-WebSocket dialect: size limit per frame (1009 past
 * it), ping/pong liveness (a peer silent for two intervals is terminated), and bounded sends.
 */
export class WsGateway {
  readonly wss: WebSocketServer;
  private readonly alive = new WeakSet<WebSocket>();
  private readonly timer: NodeJS.Timeout;
  private readonly limits: BufferLimits;

  /** The hard per-connection buffer cap (MAX_BUFFERED_BYTES), for transports that buffer elsewhere (SockJS, Socket.IO). */
  get maxBufferedBytes(): number {
    return this.limits.hard;
  }

  constructor(options: { maxFrameBytes: number; maxBufferedBytes?: number; pingIntervalMs?: number }) {
    const hard = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.limits = { soft: Math.floor(hard / 8), hard };
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: true,
      // A browser that offers subprotocols fails unless one is chosen: STOMP's when offered.
      handleProtocols: (offered) => STOMP_PROTOCOLS.find((p) => offered.has(p)) ?? offered.values().next().value ?? false,
    });
    this.timer = setInterval(() => this.sweep(), options.pingIntervalMs ?? 15_000);
    this.timer.unref();
  }

  /** Completes the handshake; rejects when the client went away during an earlier async step. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      // `ws` destroys a dead socket without calling back: settle instead of waiting forever.
      if (socket.destroyed || !socket.writable || !socket.readable) {
        socket.destroy();
        reject(new Error('client closed the connection during the handshake'));
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.alive.add(ws);
        limitsOf.set(ws, this.limits);
        ws.on('pong', () => this.alive.add(ws));
        // Errors surface as 'close'; without a listener an invalid frame would crash the process.
        ws.on('error', () => {});
        resolve(ws);
      });
    });
  }

  /**
   * Shutdown: gives connections already sent a close frame (1001) up to `graceMs` to finish
   * the closing handshake, then terminates whatever is left.
   */
  async close(graceMs = 1000): Promise<void> {
    clearInterval(this.timer);
    const open = [...this.wss.clients];
    for (const ws of open) if (ws.readyState === WebSocket.OPEN) ws.close(1001, 'server shutting down');
    const closed = open.map((ws) => (ws.readyState === WebSocket.CLOSED ? Promise.resolve() : new Promise<void>((resolve) => ws.once('close', () => resolve()))));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private sweep(): void {
    for (const ws of this.wss.clients) {
      if (!this.alive.has(ws)) {
        ws.terminate();
        continue;
      }
      this.alive.delete(ws);
      ws.ping();
    }
  }
}

/**
 * Writes unless the peer is too slow: ephemeral data is dropped past the soft limit, and a
 * connection past the hard limit is closed. Returns true when the data was queued.
 */
export function sendBounded(ws: WebSocket, data: string | Buffer | PreparedFrame, ephemeral = false): boolean {
  if (ws.readyState !== WebSocket.OPEN) return false;
  const limits = limitsOf.get(ws) ?? defaultLimits;
  const verdict = bufferVerdict(ws.bufferedAmount, limits.hard, ephemeral);
  if (verdict === 'close') {
    ws.close(CLOSE_SLOW_CONSUMER, 'slow consumer');
    // A peer that reads nothing will not read the close frame either.
    setTimeout(() => ws.terminate(), 1000).unref();
    return false;
  }
  if (verdict === 'drop') return false;
  if (data instanceof PreparedFrame) writePrepared(ws, data);
  else ws.send(data);
  return true;
}

/**
 * The one buffering rule, for any transport that can tell how much it has queued for a peer:
 * past `hard` bytes the connection is closed as a slow consumer; past `hard / 8` ephemeral
 * events (typing, presence) are dropped; otherwise the data is sent.
 */
export function bufferVerdict(queued: number, hard: number, ephemeral: boolean): 'send' | 'drop' | 'close' {
  if (queued > hard) return 'close';
  if (ephemeral && queued > Math.floor(hard / 8)) return 'drop';
  return 'send';
}
