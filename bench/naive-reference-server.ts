/**
 * Reference "the naive design": the chat server most tutorials end with. Socket.IO, no auth;
 * every incoming message is stored with one awaited `INSERT … RETURNING` (PostgreSQL through a
 * pg Pool; on SQLite one synchronous better-sqlite3 transaction) and then broadcast with
 * `io.to(room).emit`. The room's `seq` is allocated in the same statement (its rooms row is
 * bumped under its row lock); a room's messages are inserted one after the other, so they are
 * broadcast in seq order.
 *
 * Wire (what `bench/clients/socketio.ts` speaks): `io(url, { auth: { user } })`, then
 * `join_chat {chatId}` → ack `{success}`, `send_message {chatId, text}` → ack `{success, id}`,
 * and every member of the room gets `new_message {id, chatId, sender, text, seq, createdAt}`.
 *
 *   node --import tsx bench/naive-reference-server.ts
 *   (HOST, PORT; DATABASE_URL for PostgreSQL, else SQLite under DATA_DIR or a temp dir)
 */
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Server } from 'socket.io';
import { openReferenceStore, type ReferenceStore } from './reference-store.js';

type Ack = (answer: { success: boolean; id?: string; error?: string }) => void;

export interface NaiveReference {
  readonly port: number;
  readonly store: ReferenceStore;
  close(): Promise<void>;
}

export async function startNaiveReference(port = 0, host = '127.0.0.1', env: NodeJS.ProcessEnv = process.env): Promise<NaiveReference> {
  const store = await openReferenceStore({ prefix: 'ref_naive', databaseUrl: env['DATABASE_URL'], dataDir: env['DATA_DIR'] });
  // Socket.IO takes `/socket.io/` off this handler when it attaches.
  const http = createServer((req, res) => {
    res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(req.url === '/healthz' ? '{"status":"ok"}' : '{"error":"Not Found"}');
  });
  const io = new Server(http, { serveClient: false, transports: ['websocket'] });
  const ack = (fn: unknown): Ack => (typeof fn === 'function' ? (fn as Ack) : () => {});
  /**
   * Each room's last insert: the next one of the room waits for it. Without this the pool runs
   * a room's inserts side by side and their answers can come back out of order (measured on
   * PostgreSQL at 200 msg/s: 1710 of 6000 deliveries out of seq order), a reordering polychat
   * is not allowed either. Different rooms still insert concurrently, one pool client each.
   * (One settled promise per room stays here: the bench's rooms are few.)
   */
  const tails = new Map<string, Promise<void>>();

  io.on('connection', (socket) => {
    const user = String((socket.handshake.auth as { user?: unknown }).user ?? socket.id);
    socket.on('join_chat', (payload: { chatId?: unknown }, callback: unknown) => {
      if (typeof payload?.chatId !== 'string' && typeof payload?.chatId !== 'number') return ack(callback)({ success: false, error: 'chatId required' });
      void socket.join(String(payload.chatId));
      ack(callback)({ success: true });
    });
    socket.on('send_message', (payload: { chatId?: unknown; text?: unknown }, callback: unknown) => {
      const room = String(payload?.chatId);
      const text = payload?.text;
      if (typeof text !== 'string' || !socket.rooms.has(room)) return ack(callback)({ success: false, error: 'join the chat first' });
      const createdAt = Date.now();
      const stored = (tails.get(room) ?? Promise.resolve()).then(() => store.insertOne({ roomId: room, senderId: user, body: text, createdAt }));
      const done = stored.then(
        ({ id, seq }) => {
          io.to(room).emit('new_message', { id, chatId: room, sender: user, text, seq, createdAt: new Date(createdAt).toISOString() });
          ack(callback)({ success: true, id });
        },
        () => ack(callback)({ success: false, error: 'store failed' }),
      );
      tails.set(room, done);
    });
  });

  await new Promise<void>((resolve) => http.listen(port, host, resolve));
  const address = http.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    store,
    close: async () => {
      io.disconnectSockets(true);
      await new Promise<void>((done) => void io.close(() => done()));
      await store.close();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const ref = await startNaiveReference(Number(process.env['PORT'] ?? 8092), process.env['HOST'] ?? '127.0.0.1');
  process.stdout.write(`naive reference server listening on ${ref.port} (${ref.store.kind})\n`);
  const stop = (): void => void ref.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
