/** How a connection reaches its client: a plain WebSocket or a SockJS session. */
export interface StompWire {
  readonly transport: 'websocket' | 'sockjs';
  /** Returns false when the data was not queued (closed, or an ephemeral drop for a slow peer). */
  send(data: string, ephemeral: boolean): boolean;
  close(code: number, reason: string): void;
}
