import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';

/**
 * A text frame built once for every socket that gets it: the UTF-8 bytes and the unmasked
 * RFC 6455 header (server frames are never masked) are joined into one Buffer on first use, and
 * each recipient's socket writes that same Buffer — no per-recipient encoding, header or
 * `writev` of two chunks. What socket.io's adapter does for broadcasts (`wsPreEncodedFrame`).
 */
export class PreparedFrame {
  private framed: Buffer | null = null;

  constructor(readonly text: string) {}

  bytes(): Buffer {
    if (this.framed) return this.framed;
    const payload = Buffer.from(this.text, 'utf8');
    const n = payload.length;
    const headerLength = n < 126 ? 2 : n < 65_536 ? 4 : 10;
    const out = Buffer.allocUnsafe(headerLength + n);
    out[0] = 0x81; // FIN + text opcode
    if (n < 126) {
      out[1] = n;
    } else if (n < 65_536) {
      out[1] = 126;
      out.writeUInt16BE(n, 2);
    } else {
      out[1] = 127;
      out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
      out.writeUInt32BE(n >>> 0, 6);
    }
    payload.copy(out, headerLength);
    return (this.framed = out);
  }
}

/** `ws` internals this relies on: its socket, and its sender's state (0: nothing queued). */
interface WsInternals {
  readonly _socket?: Duplex;
  readonly _sender?: { readonly _state?: number };
}

/**
 * Writes a prepared frame straight to the connection's socket. Safe only while `ws`'s sender
 * has nothing of its own queued (it queues only while compressing or reading a Blob, neither
 * of which this server does); otherwise the frame goes through `ws.send` like any other.
 */
export function writePrepared(ws: WebSocket, frame: PreparedFrame): void {
  const internals = ws as unknown as WsInternals;
  const socket = internals._socket;
  if (socket && internals._sender?._state === 0 && ws.readyState === WebSocket.OPEN) socket.write(frame.bytes());
  else ws.send(frame.text);
}
