import type { PreparedFrame } from '../shared/prepared-frame.js';

/** How a connection reaches its client: a plain WebSocket or a SockJS session. */
export interface StompWire {
  readonly transport: 'websocket' | 'sockjs';
  /**
   * A frame shared with other connections arrives prepared (a WebSocket writes its bytes as
   * they are; SockJS, which frames its own way, sends the text). Returns false when the data was
   * not queued (closed, or an ephemeral drop for a slow peer).
   */
  send(data: string | PreparedFrame, ephemeral: boolean): boolean;
  close(code: number, reason: string): void;
}
