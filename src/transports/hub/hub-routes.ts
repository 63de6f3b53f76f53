import type { FastifyInstance } from 'fastify';
import { parseId, parsePage, parseUserId } from '../../core/paging.js';
import { SEARCH_SYNTAX } from '../../core/queries/search-queries.js';
import type { DialectContext } from '../dialect.js';
import { actor } from '../http/authenticate.js';
import { displayName } from '../../domain/user.js';
import { registerHubEditRoutes } from './hub-edit-routes.js';
import { presenceData, restConversation, restMessage, type Peer } from './hub-wire.js';

const tags = ['hub'];
const page = { type: 'object', properties: { limit: { type: 'string' }, offset: { type: 'string' } } } as const;
const conversationParams = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } as const;
const search = { type: 'object', properties: { q: { type: 'string', description: SEARCH_SYNTAX }, limit: { type: 'string' }, offset: { type: 'string' } } } as const;
const userParams = { type: 'object', properties: { user_id: { type: 'string' } }, required: ['user_id'] } as const;

/**
 * The `hub` REST routes. They live in their own encapsulated scope so that a POST with
 * `Content-Type: application/json` and no body (how many front-ends call `…/read`) is accepted.
 */
export async function registerHubRoutes(ctx: DialectContext): Promise<void> {
  const { core } = ctx;
  await ctx.app.register(async (app: FastifyInstance) => {
    const json = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') return done(null, undefined);
      json(request, text, done);
    });
    const onRequest = ctx.authenticate;
    const peerOf = async (me: string, chatId: number): Promise<Peer | null> => {
      try {
        const other = (await core.listMembers(me, chatId)).find((m) => m.user.id !== me);
        return other ? { id: other.user.id, name: displayName(other.user) } : null;
      } catch {
        return null; // left the chat between the list and this lookup
      }
    };

    app.get(
      '/api/v1/ws',
      {
        onRequest,
        schema: {
          tags,
          summary: 'The hub WebSocket: upgrade with the token (Authorization header, ?token= or ?access_token=); a plain GET gets 426',
        },
      },
      async (_request, reply) => reply.status(426).header('upgrade', 'websocket').send({ error: 'Upgrade Required: connect with a WebSocket client' }),
    );

    app.get(
      '/api/v1/chat/conversations',
      { onRequest, schema: { tags, summary: 'Conversations of the caller, most recently active first', querystring: page } },
      async (request) => {
        const q = request.query as { limit?: string; offset?: string };
        const { limit, offset } = parsePage(q.limit, q.offset, { limit: 20, max: core.settings.maxPageChats });
        const me = actor(request).id;
        const list = await core.listChats(me, { limit, offset });
        const peers = await Promise.all(list.map((s) => (s.chat.type === 'private' ? peerOf(me, s.chat.id) : null)));
        return { conversations: list.map((s, i) => restConversation(s, peers[i] ?? null)) };
      },
    );

    app.get(
      '/api/v1/chat/conversations/:id/messages',
      {
        onRequest,
        schema: {
          tags,
          summary: 'A page of messages counted back from the newest, oldest first',
          params: conversationParams,
          querystring: page,
        },
      },
      async (request) => {
        const chatId = parseId((request.params as { id: string }).id, 'conversation id');
        const q = request.query as { limit?: string; offset?: string };
        const messages = await core.history(actor(request).id, chatId, parsePage(q.limit, q.offset, { limit: 50, max: core.settings.maxPageSize }));
        return { messages: messages.map(restMessage) };
      },
    );

    app.get(
      '/api/v1/chat/search',
      {
        onRequest,
        schema: {
          tags,
          summary: 'Search messages of the caller’s conversations: best match first, then newest; q is 1–200 characters',
          querystring: search,
        },
      },
      async (request) => {
        const q = request.query as { q?: string; limit?: string; offset?: string };
        const page = parsePage(q.limit, q.offset, { limit: 50, max: core.settings.maxPageSize });
        const messages = await core.searchMessages(actor(request).id, { q: q.q, ...page });
        return { messages: messages.map(restMessage) };
      },
    );

    app.post(
      '/api/v1/chat/conversations/:id/read',
      { onRequest, schema: { tags, summary: 'Mark the conversation read up to its newest message', params: conversationParams } },
      async (request, reply) => {
        const chatId = parseId((request.params as { id: string }).id, 'conversation id');
        await core.markRead(actor(request).id, chatId);
        return reply.status(204).send();
      },
    );

    app.post(
      '/api/v1/chat/direct/:user_id/send',
      {
        onRequest,
        schema: {
          tags,
          summary: 'Send a message to a user, opening the private conversation on first use',
          params: userParams,
          body: { type: 'object', properties: { body: { type: 'string' }, client_msg_id: { type: 'string', minLength: 1, maxLength: 100 } }, required: ['body'] },
        },
      },
      async (request) => {
        const me = actor(request).id;
        const otherId = parseUserId((request.params as { user_id: string }).user_id, 'user_id');
        const { body: text, client_msg_id: clientMsgId } = request.body as { body: unknown; client_msg_id?: string };
        // A retry with the same client_msg_id answers the original message (still 200), with no new event.
        const { message } = await core.sendDirect(me, otherId, { text, clientMsgId });
        return { message: restMessage(message) };
      },
    );

    registerHubEditRoutes(app, core, onRequest);

    app.get(
      '/api/v1/chat/presence/:user_id',
      { onRequest, schema: { tags, summary: 'Whether a user is online, and when it was last seen', params: userParams } },
      async (request) => {
        actor(request);
        const userId = parseUserId((request.params as { user_id: string }).user_id, 'user_id');
        await core.getUser(userId);
        const { online, lastSeen } = await core.presenceOf(userId);
        return presenceData(userId, online, online ? null : lastSeen);
      },
    );
  });
}
