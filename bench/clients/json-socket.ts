import WebSocket from 'ws';
import type { Member } from '../topology.js';
import { withTimeout, type Connection, type Receiver } from './driver.js';

export interface JsonSocketSpec {
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly protocols?: string[];
  /** Encodes a chat message as this dialect's client frame. */
  encode(text: string): string;
  /**
   * Handles one server frame; returns true when the connection is ready (the first frame that
   * says so: `connection_established`, `history`, …). Null `ready` means ready on open.
   */
  onFrame(raw: string, member: Member, receiver: Receiver): boolean;
  readonly readyOnOpen: boolean;
  readonly what: string;
}

/**
 * A raw `ws` client with no per-frame allocations beyond what `ws` and JSON.parse need:
 * every plain-WebSocket dialect is one `JsonSocketSpec` over this.
 */
export function openJsonSocket(spec: JsonSocketSpec, member: Member, receiver: Receiver): Promise<Connection> {
  const ws = new WebSocket(spec.url, spec.protocols ?? [], { headers: spec.headers ?? {}, perMessageDeflate: false });
  let ready = false;
  let closedByUs = false;
  const connection: Connection = {
    send(text) {
      if (ws.readyState === WebSocket.OPEN) ws.send(spec.encode(text));
      else receiver.error(member, 'send on a closed socket');
    },
    close() {
      closedByUs = true;
      ws.terminate();
    },
    get open() {
      return ws.readyState === WebSocket.OPEN;
    },
  };
  const opened = new Promise<Connection>((resolve, reject) => {
    ws.on('open', () => {
      if (spec.readyOnOpen) {
        ready = true;
        resolve(connection);
      }
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      receiver.frame();
      const raw = isBinary ? data.toString('utf8') : data.toString();
      if (spec.onFrame(raw, member, receiver) && !ready) {
        ready = true;
        resolve(connection);
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      reject(new Error(`${spec.what}: upgrade refused with HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.on('error', (err) => {
      if (!ready) reject(new Error(`${spec.what}: ${err.message}`));
    });
    ws.on('close', (code, reason) => {
      if (!ready) reject(new Error(`${spec.what}: closed ${code} ${reason.toString()} before ready`));
      else if (!closedByUs) receiver.error(member, `closed ${code} ${reason.toString()}`);
    });
  });
  return withTimeout(opened, 15_000, spec.what);
}
