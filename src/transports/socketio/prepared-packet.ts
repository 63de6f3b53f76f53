import type { Namespace, Socket } from 'socket.io';
import { PreparedFrame } from '../shared/prepared-frame.js';

/** socket.io-parser's EVENT packet type. */
const EVENT = 2;

/** An event encoded once for every socket that gets it, as Socket.IO's own broadcasts do. */
export interface PreparedPacket {
  /** socket.io-parser's encoding (one string for a packet without binary data). */
  readonly encoded: readonly unknown[];
  /** The whole WebSocket frame (engine.io "4" message prefix included), for websocket transports. */
  readonly wsFrame: Buffer[] | undefined;
}

/** The Socket.IO internals the adapter's broadcast uses: the namespace's encoder and the client's engine writer. */
interface Internals {
  readonly adapter: { readonly encoder: { encode(packet: unknown): unknown[] } };
}
interface ClientInternals {
  writeToEngine(encoded: readonly unknown[], options: { preEncoded: true; wsPreEncodedFrame?: Buffer[] }): void;
}

export function preparePacket(nsp: Namespace, event: string, payload: unknown): PreparedPacket {
  const encoded = (nsp as unknown as Internals).adapter.encoder.encode({ type: EVENT, data: [event, payload], nsp: nsp.name });
  const only = encoded.length === 1 ? encoded[0] : undefined;
  return { encoded, wsFrame: typeof only === 'string' ? [new PreparedFrame(`4${only}`).bytes()] : undefined };
}

/**
 * Writes a prepared packet the way `io.to(room).emit` does for each socket of a room: through
 * the client's engine writer, with the pre-built frame for a websocket transport (polling
 * transports encode the packet string as usual).
 */
export function emitPrepared(socket: Socket, packet: PreparedPacket): void {
  if (!socket.connected) return;
  (socket.client as unknown as ClientInternals).writeToEngine(packet.encoded, { preEncoded: true, ...(packet.wsFrame ? { wsPreEncodedFrame: packet.wsFrame } : {}) });
}
