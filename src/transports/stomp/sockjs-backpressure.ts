import type sockjs from 'sockjs';
import { CLOSE_SLOW_CONSUMER } from '../shared/ws-gateway.js';

/**
 * SockJS has no public count of what it holds for a client (its session's send buffer, then the
 * transport socket's queue), nor a way to drop a peer that reads nothing. The gateway's bound on
 * buffered bytes needs both, so this file alone reads sockjs 0.3's internals; it is pinned in
 * package.json, and a shape change reads as 0 (no bound), never a crash.
 */
interface SockJsInternals {
  _session?: { send_buffer?: string[]; recv?: { connection?: { writableLength?: number }; response?: { connection?: { writableLength?: number } } } | null };
}

function transportSocket(sock: sockjs.Connection): { writableLength?: number; destroy?: () => void } | undefined {
  const recv = (sock as unknown as SockJsInternals)._session?.recv;
  return recv?.connection ?? recv?.response?.connection;
}

/** Bytes SockJS holds for this client: its session's unsent frames plus the transport socket's queue. */
export function sockjsBuffered(sock: sockjs.Connection): number {
  const session = (sock as unknown as SockJsInternals)._session;
  if (!session) return 0;
  let n = 0;
  for (const frame of session.send_buffer ?? []) n += frame.length;
  const socket = transportSocket(sock);
  if (socket && typeof socket.writableLength === 'number') n += socket.writableLength;
  return n;
}

/** 1013 like the WebSocket dialects; a peer that reads nothing will not read the close either. */
export function closeSlowSockJs(sock: sockjs.Connection): void {
  const socket = transportSocket(sock);
  sock.close(CLOSE_SLOW_CONSUMER as unknown as string, 'slow consumer');
  setTimeout(() => socket?.destroy?.(), 1000).unref();
}
