/** The limits the dialects themselves enforce (the rest of the configuration is not theirs to see). */
export interface TransportSettings {
  /** Largest WebSocket frame / Socket.IO packet (MAX_FRAME_BYTES). */
  readonly maxFrameBytes: number;
  /** Largest JSON request body (MAX_BODY_BYTES), also for SockJS's HTTP transports. */
  readonly maxBodyBytes: number;
  /** Time to authenticate a new connection (HANDSHAKE_TIMEOUT_MS). */
  readonly handshakeTimeoutMs: number;
}
