/**
 * The reference for every benchmark figure: a minimal raw `ws` fan-out server, no auth, no
 * persistence, no framework. Same message flow as the `hub` dialect (one JSON socket per user,
 * `{"type":"message","data":{conversation_id, body}}` in, the `hub` message event out, with a
 * per-room `seq`), so the same generator drives both and the difference is what polychat adds:
 * JWT auth, storage, the core's rules, the bus and the session registry.
 *
 *   node --import tsx bench/reference-server.ts      (HOST, PORT; GET /healthz answers 200)
 *
 * A client joins one room with `/ws?user=<id>&room=<id>`; every message to a room goes to every
 * socket in it, the sender's included, serialized once. `bench/group-commit-reference-server.ts`
 * is this server with a `persist` step before the broadcast.
 */
import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import type { NewMessage, StoredMessage } from './reference-store.js';

interface Room {
  readonly sockets: Set<WebSocket>;
  seq: number;
}

export interface ReferenceServer {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

export interface ReferenceOptions {
  /**
   * Stores a message before it is broadcast (`bench/group-commit-reference-server.ts`); its
   * promises must settle in the order the messages were given, so each room's broadcasts keep
   * seq order. Without it the server keeps `seq` in memory and stores nothing.
   */
  readonly persist?: (message: NewMessage) => Promise<StoredMessage>;
  /** Runs after the sockets are closed (drop the store). */
  readonly onClose?: () => Promise<void>;
}

export function startReferenceServer(port = 0, host = '127.0.0.1', options: ReferenceOptions = {}): Promise<ReferenceServer> {
  const { persist } = options;
  const rooms = new Map<string, Room>();
  let nextId = 1;
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(req.url === '/healthz' ? '{"status":"ok"}' : '{"error":"Not Found"}');
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const user = url.searchParams.get('user');
    const roomId = url.searchParams.get('room') ?? '';
    if (url.pathname !== '/ws' || !user) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      let room: Room | undefined;
      if (roomId !== '') {
        room = rooms.get(roomId);
        if (!room) rooms.set(roomId, (room = { sockets: new Set(), seq: 0 }));
        room.sockets.add(ws);
      }
      ws.on('error', () => {});
      ws.on('close', () => room?.sockets.delete(ws));
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        let frame: { type?: unknown; data?: { conversation_id?: unknown; body?: unknown } };
        try {
          frame = JSON.parse(data.toString()) as typeof frame;
        } catch {
          ws.send('{"type":"error","data":{"error":"Invalid JSON"}}');
          return;
        }
        const target = rooms.get(String(frame.data?.conversation_id));
        if (frame.type !== 'message' || typeof frame.data?.body !== 'string' || !target || !target.sockets.has(ws)) {
          ws.send('{"type":"error","data":{"error":"Bad frame"}}');
          return;
        }
        const conversationId = String(frame.data.conversation_id);
        if (!persist) {
          const event = JSON.stringify({
            type: 'message',
            data: { id: String(nextId++), conversation_id: conversationId, sender_id: user, body: frame.data.body, created_at: Math.floor(Date.now() / 1000), seq: ++target.seq },
          });
          for (const peer of target.sockets) if (peer.readyState === WebSocket.OPEN) peer.send(event);
          return;
        }
        const message: NewMessage = { roomId: conversationId, senderId: user, body: frame.data.body, createdAt: Date.now() };
        persist(message).then(
          (stored) => {
            const event = JSON.stringify({
              type: 'message',
              data: { id: stored.id, conversation_id: conversationId, sender_id: user, body: message.body, created_at: Math.floor(message.createdAt / 1000), seq: stored.seq },
            });
            for (const peer of target.sockets) if (peer.readyState === WebSocket.OPEN) peer.send(event);
          },
          () => {
            if (ws.readyState === WebSocket.OPEN) ws.send('{"type":"error","data":{"error":"Store failed"}}');
          },
        );
      });
    });
  });

  return new Promise((resolve) => {
    server.listen(port, host, () => {
      const address = server.address();
      resolve({
        server,
        port: typeof address === 'object' && address ? address.port : port,
        close: () =>
          new Promise<void>((done) => {
            for (const ws of wss.clients) ws.terminate();
            wss.close();
            server.close(() => void (options.onClose?.() ?? Promise.resolve()).finally(done));
          }),
      });
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const ref = await startReferenceServer(Number(process.env['PORT'] ?? 8090), process.env['HOST'] ?? '127.0.0.1');
  process.stdout.write(`reference server listening on ${ref.port}\n`);
  const stop = (): void => void ref.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
