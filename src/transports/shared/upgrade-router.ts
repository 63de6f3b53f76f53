import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { RETRY_AFTER_S } from '../../domain/errors.js';

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, params: Record<string, string>) => void;

interface Route {
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly handler: UpgradeHandler;
}

/**
 * Routes WebSocket upgrades by path: to the dialects that own a plain `ws` server, and under a
 * prefix to a library that answers the handshake itself (SockJS). Paths claimed by a library
 * that listens on the HTTP server on its own (Socket.IO) are left alone; anything else gets a
 * 404 and is closed, so no socket hangs.
 */
export class UpgradeRouter {
  private readonly routes: Route[] = [];
  private readonly prefixes: { readonly prefix: string; readonly handler: UpgradeHandler }[] = [];
  private readonly claimed: ((path: string) => boolean)[] = [];

  /**
   * @param handshakeTimeoutMs an upgrade whose handler has not completed the WebSocket handshake
   * (token check included) within this long is dropped; `ws` clears the timer once upgraded.
   */
  constructor(private readonly handshakeTimeoutMs = 0) {}

  /** `pattern` like `/api/v1/chat/:id`; a `:name` segment matches one path segment. */
  add(pattern: string, handler: UpgradeHandler): void {
    const names: string[] = [];
    const source = pattern
      .split('/')
      .map((part) => {
        if (part.startsWith(':')) {
          names.push(part.slice(1));
          return '([^/]+)';
        }
        return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    this.routes.push({ pattern: new RegExp(`^${source}$`), names, handler });
  }

  /**
   * Every path under `prefix` (e.g. `/ws-chat/`) to `handler`, which answers the handshake
   * itself: no handshake timer is set, since no `ws` upgrade would clear it.
   */
  addPrefix(prefix: string, handler: UpgradeHandler): void {
    this.prefixes.push({ prefix, handler });
  }

  /** Leaves upgrades on these paths to another listener on the same server. */
  claim(test: (path: string) => boolean): void {
    this.claimed.push(test);
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node drops the socket's error listener before emitting 'upgrade': a client that resets
      // while a handler awaits (token check) would otherwise crash the process.
      socket.on('error', () => {});
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (this.claimed.some((test) => test(path))) return;
      const owner = this.prefixes.find((p) => path.startsWith(p.prefix));
      if (owner) {
        owner.handler(req, socket, head, {});
        return;
      }
      for (const route of this.routes) {
        const match = route.pattern.exec(path);
        if (!match) continue;
        const params: Record<string, string> = {};
        try {
          route.names.forEach((name, i) => {
            params[name] = decodeURIComponent(match[i + 1] ?? '');
          });
        } catch {
          rejectUpgrade(socket, 400, 'Bad Request');
          return;
        }
        if (this.handshakeTimeoutMs > 0) (socket as Socket).setTimeout?.(this.handshakeTimeoutMs, () => socket.destroy());
        route.handler(req, socket, head, params);
        return;
      }
      rejectUpgrade(socket, 404, 'Not Found');
    });
  }
}

/** Answers an upgrade with a plain HTTP error and closes the socket (no WebSocket is made). */
export function rejectUpgrade(socket: Duplex, status: number, text: string, body = ''): void {
  if (socket.writable) {
    const retry = status === 503 ? `Retry-After: ${RETRY_AFTER_S}\r\n` : '';
    socket.write(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${retry}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
