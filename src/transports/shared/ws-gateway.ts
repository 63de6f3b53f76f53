import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';

/** Above this many queued bytes a connection drops ephemeral events (typing, presence). */
export const SOFT_BUFFER_BYTES = 512 * 1024;
/** Above this a connection is closed as a slow consumer; it catches up by seq on reconnect. */
export const HARD_BUFFER_BYTES = 4 * 1024 * 1024;
export const CLOSE_SLOW_CONSUMER = 1013;

const STOMP_PROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp'];

/**
 * The one `ws` server behind every plain-WebSocket dialect: size limit per frame (1009 past
 * it), ping/pong liveness (a peer silent for two intervals is terminated), and bounded sends.
 */
export class WsGateway {
  readonly wss: WebSocketServer;
  private readonly alive = new WeakSet<WebSocket>();
  private readonly timer: NodeJS.Timeout;

  constructor(options: { maxFrameBytes: number; pingIntervalMs?: number }) {
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

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<WebSocket> {
    return new Promise((resolve) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.alive.add(ws);
        ws.on('pong', () => this.alive.add(ws));
        // Errors surface as 'close'; without a listener an invalid frame would crash the process.
        ws.on('error', () => {});
        resolve(ws);
      });
    });
  }

  close(): void {
    clearInterval(this.timer);
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
export function sendBounded(ws: WebSocket, data: string | Buffer, ephemeral = false): boolean {
  if (ws.readyState !== WebSocket.OPEN) return false;
  const queued = ws.bufferedAmount;
  if (queued > HARD_BUFFER_BYTES) {
    ws.close(CLOSE_SLOW_CONSUMER, 'slow consumer');
    return false;
  }
  if (ephemeral && queued > SOFT_BUFFER_BYTES) return false;
  ws.send(data);
  return true;
}
