import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { parseId, parsePage, type Page } from '../../core/paging.js';
import { notFound } from '../../domain/errors.js';
import type { ChatType } from '../../domain/chat.js';
import type { User } from '../../domain/user.js';
import type { Session } from '../../realtime/session.js';
import type { DialectContext } from '../dialect.js';
import { redactUrl, tokenFromRequest } from '../shared/bearer-token.js';
import { rejectUpgrade } from '../shared/upgrade-router.js';
import type { NameBook } from './name-book.js';
import { RoomsChatSession } from './rooms-chat-session.js';
import { upgradeRefusal } from './rooms-errors.js';
import { RoomsMainSession } from './rooms-main-session.js';

const DEFAULT_HISTORY = 100;

/**
 * The `rooms` WebSockets. Every check (token, id, paging query, membership, chat kind) runs
 * before the upgrade: a refused socket gets a plain HTTP status (400/401/403/404) with a JSON
 * `{"error"}` body and no WebSocket is ever made.
 */
export function registerRoomsSockets(ctx: DialectContext, names: NameBook): void {
  const { core, registry, upgrades, ws: gateway, log } = ctx;

  const refuse = (req: IncomingMessage, socket: Duplex, err: unknown): void => {
    const refusal = upgradeRefusal(err);
    if (refusal.log === 'failed') log.error({ err: (err as Error)?.message, path: redactUrl(req.url) }, 'rooms upgrade failed');
    else if (refusal.log) log.info({ path: redactUrl(req.url) }, refusal.log);
    rejectUpgrade(socket, refusal.status, refusal.text, refusal.body);
  };

  /** Upgrades and registers the session; it leaves the registry when the socket closes. */
  const open = async <S extends Session>(req: IncomingMessage, socket: Duplex, head: Buffer, make: (ws: WebSocket) => S): Promise<S> => {
    const ws = await gateway.upgrade(req, socket, head);
    const session = make(ws);
    ws.once('close', () => void registry.remove(session));
    await registry.add(session);
    if (ws.readyState !== ws.OPEN) await registry.remove(session);
    return session;
  };

  const chatSocket = (kind: ChatType) => (req: IncomingMessage, socket: Duplex, head: Buffer, params: Record<string, string>) => {
    socket.on('error', () => {});
    void (async () => {
      let user: User;
      let chatId: number;
      let page: Page;
      try {
        user = await core.authenticate(tokenFromRequest(req.headers, req.url));
        chatId = parseId(params['id'], 'id');
        const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
        page = parsePage(query.get('limit') ?? undefined, query.get('offset') ?? undefined, { limit: DEFAULT_HISTORY, max: core.settings.maxPageSize });
        const { type } = await core.checkAccess(user.id, chatId);
        if (type !== kind) throw notFound(kind === 'group' ? 'Group not found' : 'Chat not found');
      } catch (err) {
        refuse(req, socket, err);
        return;
      }
      const session = await open(req, socket, head, (ws) => new RoomsChatSession(registry.newSessionId(), user.id, chatId, ws, { core, names, log }));
      await session.start(page);
    })().catch((err: unknown) => {
      log.error({ err: (err as Error)?.message }, 'rooms socket failed');
      socket.destroy();
    });
  };

  // A plain GET on a socket path says what it is (and puts the sockets in the OpenAPI document).
  const sockets: [string, string][] = [
    ['/api/v1/chat/:id', 'WebSocket of a private chat: history on connect, then message/typing/stop_typing frames'],
    ['/api/v1/group/:id', 'WebSocket of a group chat: history on connect, then message/typing/stop_typing frames'],
    ['/api/v1/main', 'WebSocket of the user: a last_message for every new message in any of its chats'],
  ];
  for (const [path, summary] of sockets) {
    ctx.app.get(
      path,
      { onRequest: ctx.authenticate, schema: { tags: ['rooms'], summary: `${summary}. Upgrade with the token (Authorization header, ?token= or ?access_token=); a plain GET gets 426` } },
      async (_request, reply) => reply.status(426).header('upgrade', 'websocket').send({ error: 'Upgrade Required: connect with a WebSocket client' }),
    );
  }

  upgrades.add('/api/v1/chat/:id', chatSocket('private'));
  upgrades.add('/api/v1/group/:id', chatSocket('group'));

  upgrades.add('/api/v1/main', (req, socket, head) => {
    socket.on('error', () => {});
    void (async () => {
      let user: User;
      try {
        user = await core.authenticate(tokenFromRequest(req.headers, req.url));
      } catch (err) {
        refuse(req, socket, err);
        return;
      }
      await open(req, socket, head, (ws) => new RoomsMainSession(registry.newSessionId(), user.id, ws, log));
    })().catch((err: unknown) => {
      log.error({ err: (err as Error)?.message }, 'rooms socket failed');
      socket.destroy();
    });
  });
}
