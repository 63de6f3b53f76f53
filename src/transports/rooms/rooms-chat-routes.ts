import type { FastifyInstance } from 'fastify';
import type { ChatCore } from '../../core/chat-core.js';
import { parseId, parseOptionalPage } from '../../core/paging.js';
import { ChatError } from '../../domain/errors.js';
import { actor, type Authenticate } from '../http/authenticate.js';
import { roomViews } from './rooms-room-view.js';
import { idParams, pageQuery, tags, userIdParams } from './rooms-schemas.js';
import { parseRoomsUserId } from './rooms-user-ids.js';

/** Private chats and the chat list: `POST /api/v1/chat/:userId`, `GET /api/v1/chat/:id/info`, `GET /api/v1/chats`. */
export function registerRoomsChatRoutes(app: FastifyInstance, core: ChatCore, authenticate: Authenticate): void {
  app.post(
    '/api/v1/chat/:id',
    { schema: { tags, summary: 'Get or create the private chat with a user (the id is a USER id)', params: userIdParams }, onRequest: authenticate },
    async (request) => {
      const otherId = parseRoomsUserId((request.params as { id: string }).id, 'id');
      const { chat } = await core.openPrivateChat(actor(request).id, otherId);
      return { status: 'ok', chat: { id: chat.id } };
    },
  );

  app.get(
    '/api/v1/chat/:id/info',
    { schema: { tags, summary: 'A private chat: {id, name, type, last_message, users}', params: idParams }, onRequest: authenticate },
    async (request) => {
      const me = actor(request);
      const chatId = parseId((request.params as { id: string }).id, 'id');
      const summary = await core.getChatSummary(me.id, chatId);
      if (summary.chat.type !== 'private') throw new ChatError('chat_not_found');
      const [view] = await roomViews(core, me.id, [summary]);
      return view;
    },
  );

  app.get(
    '/api/v1/chats',
    { schema: { tags, summary: 'The caller\'s chats, newest activity first (no limit = all)', querystring: pageQuery }, onRequest: authenticate },
    async (request) => {
      const me = actor(request);
      const query = request.query as { limit?: string; offset?: string };
      const page = parseOptionalPage(query.limit, query.offset, core.settings.maxPageSize);
      const rooms = await roomViews(core, me.id, await core.listChats(me.id, page));
      return { rooms: rooms.map(({ users: _users, ...room }) => room) };
    },
  );
}
