import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ChatCore } from '../../core/chat-core.js';
import { parseId, parsePage, parseUserId } from '../../core/paging.js';
import { SEARCH_SYNTAX } from '../../core/queries/search-queries.js';
import { badRequest, notFound } from '../../domain/errors.js';
import { actor, type Authenticate } from '../http/authenticate.js';
import { renderChat, renderMessage, renderSentMessage } from './stomp-render.js';

const tags = ['stomp'];
const chatParams = { type: 'object', properties: { chatId: { type: 'string' } }, required: ['chatId'] } as const;
const userParams = { type: 'object', properties: { userId: { type: 'string' } }, required: ['userId'] } as const;
const idValue = { anyOf: [{ type: 'string' }, { type: 'integer' }] } as const;

type Req = FastifyRequest;
const param = (request: Req, name: string): unknown => (request.params as Record<string, unknown>)[name];
const query = (request: Req): Record<string, unknown> => (request.query as Record<string, unknown> | undefined) ?? {};
function body(request: Req): Record<string, unknown> {
  const raw = request.body;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest('Body must be a JSON object');
  return raw as Record<string, unknown>;
}

/** `since` as ISO-8601 (the seed) or Unix ms (the envelope `timestamp`); anything else is a 400. */
export function parseSince(raw: unknown): number {
  if (typeof raw !== 'string' || raw === '') throw badRequest('since is required (ISO-8601 date-time)');
  if (/^\d{1,15}$/.test(raw)) return Number(raw);
  const ok = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw);
  const ms = ok ? Date.parse(raw) : NaN;
  if (Number.isNaN(ms)) throw badRequest('since must be an ISO-8601 date-time');
  return ms;
}

/** The `stomp` seed's REST API under `/api/chats`; every route needs a token. */
export function registerStompRestRoutes(app: FastifyInstance, core: ChatCore, authenticate: Authenticate): void {
  const chatView = async (actorId: string, chatId: number) => {
    const [summary, members] = await Promise.all([core.getChatSummary(actorId, chatId), core.listMembers(actorId, chatId)]);
    return renderChat(summary, members, actorId);
  };

  app.get('/api/chats', { onRequest: authenticate, schema: { tags, summary: 'Chats of the caller, newest activity first' } }, async (request) => {
    const me = actor(request);
    const summaries = await core.listChats(me.id, { limit: null, offset: 0 });
    return Promise.all(summaries.map(async (s) => renderChat(s, await core.listMembers(me.id, s.chat.id), me.id)));
  });

  app.post(
    '/api/chats',
    {
      onRequest: authenticate,
      schema: {
        tags,
        summary: 'Create a private chat (get-or-create) or a group chat',
        body: {
          type: 'object',
          properties: { type: { type: 'string', enum: ['private', 'group'] }, name: { type: 'string' }, description: { anyOf: [{ type: 'string' }, { type: 'null' }] }, participantIds: { type: 'array', items: idValue } },
          required: ['type'],
        },
      },
    },
    async (request, reply) => {
      const me = actor(request);
      const input = body(request);
      const ids = Array.isArray(input['participantIds']) ? input['participantIds'].map((id) => parseUserId(id, 'participantIds item')) : [];
      let chatId: number;
      if (input['type'] === 'private') {
        chatId = (await core.openPrivateChatAmong(me.id, ids)).chat.id;
      } else {
        chatId = (await core.createGroup(me.id, { name: input['name'], description: input['description'], memberIds: ids })).id;
      }
      return reply.status(201).send(await chatView(me.id, chatId));
    },
  );

  app.post('/api/chats/personal/:userId', { onRequest: authenticate, schema: { tags, summary: 'Get or create the private chat with a user', params: userParams } }, async (request) => {
    const me = actor(request);
    const { chat } = await core.openPrivateChat(me.id, parseUserId(param(request, 'userId')));
    return chatView(me.id, chat.id);
  });

  app.get('/api/chats/personal/:userId/id', { onRequest: authenticate, schema: { tags, summary: 'The id of the private chat with a user (404 if none)', params: userParams } }, async (request) => {
    const me = actor(request);
    const chatId = await core.findPrivateChatId(me.id, parseUserId(param(request, 'userId')));
    if (chatId === undefined) throw notFound('Private chat not found');
    return { chatId };
  });

  app.get('/api/chats/:chatId', { onRequest: authenticate, schema: { tags, summary: 'One chat, as a list item', params: chatParams } }, async (request) =>
    chatView(actor(request).id, parseId(param(request, 'chatId'), 'chatId')),
  );

  app.get(
    '/api/chats/:chatId/messages',
    { onRequest: authenticate, schema: { tags, summary: 'History page, oldest first; offset counts back from the newest', params: chatParams, querystring: { type: 'object', properties: { limit: { type: 'string' }, offset: { type: 'string' } } } } },
    async (request) => {
      const chatId = parseId(param(request, 'chatId'), 'chatId');
      const page = parsePage(query(request)['limit'], query(request)['offset'], { limit: 50, max: core.settings.maxPageSize });
      return (await core.history(actor(request).id, chatId, page)).map(renderMessage);
    },
  );

  app.post(
    '/api/chats/:chatId/messages',
    {
      onRequest: authenticate,
      schema: { tags, summary: 'Send a message', params: chatParams, body: { type: 'object', properties: { content: { type: 'string' }, type: { type: 'string' }, replyToMessageId: { anyOf: [{ type: 'string' }, { type: 'integer' }, { type: 'null' }] }, clientMessageId: { type: 'string', minLength: 1, maxLength: 100 } }, required: ['content'] } },
    },
    async (request, reply) => {
      const chatId = parseId(param(request, 'chatId'), 'chatId');
      const input = body(request);
      const replyRaw = input['replyToMessageId'];
      const { message, created } = await core.sendMessage(actor(request).id, {
        chatId,
        text: input['content'],
        kind: input['type'] === undefined ? undefined : (input['type'] as string),
        replyTo: replyRaw === undefined || replyRaw === null ? null : parseId(replyRaw, 'replyToMessageId'),
        clientMsgId: input['clientMessageId'] as string | undefined,
      });
      // A retry with the same clientMessageId: the original, 200 instead of 201, no new event.
      return reply.status(created ? 201 : 200).send(renderSentMessage(message));
    },
  );

  app.put(
    '/api/chats/:chatId/participants',
    {
      onRequest: authenticate,
      schema: { tags, summary: 'Add or remove a participant', params: chatParams, body: { type: 'object', properties: { action: { type: 'string', enum: ['add', 'remove'] }, userId: idValue }, required: ['action', 'userId'] } },
    },
    async (request) => {
      const me = actor(request);
      const chatId = parseId(param(request, 'chatId'), 'chatId');
      const input = body(request);
      const userId = parseUserId(input['userId'], 'userId');
      if (input['action'] === 'add') {
        await core.addMembers(me.id, chatId, [userId]);
        return chatView(me.id, chatId);
      }
      if (userId !== me.id) {
        await core.removeMembers(me.id, chatId, [userId]);
        return chatView(me.id, chatId);
      }
      // Leaving: the caller can no longer read the chat, so answer with the view from before, without it.
      const before = await chatView(me.id, chatId);
      await core.removeMembers(me.id, chatId, [userId]);
      return { ...before, participants: before.participants.filter((p) => p.userId !== me.id) };
    },
  );

  app.post('/api/chats/:chatId/avatar', { onRequest: authenticate, schema: { tags, summary: 'Upload the chat avatar (multipart; the first file part)', params: chatParams } }, async (request) => {
    const chatId = parseId(param(request, 'chatId'), 'chatId');
    if (!request.isMultipart()) throw badRequest('Expected a multipart/form-data body with an image file');
    let bytes: Buffer | null;
    try {
      const file = await request.file();
      bytes = file ? await file.toBuffer() : null;
    } catch (err) {
      // A truncated or malformed form is the client's mistake (the file-size 413 keeps its status).
      const status = (err as { statusCode?: unknown }).statusCode;
      if (typeof status === 'number' && status >= 400 && status < 500) throw err;
      throw badRequest('Malformed multipart body');
    }
    if (!bytes) throw badRequest('No file in the multipart body');
    const chat = await core.updateChat(actor(request).id, chatId, { avatar: bytes });
    return { avatarUrl: chat.avatarUrl };
  });

  app.get('/api/chats/:chatId/online', { onRequest: authenticate, schema: { tags, summary: 'Members with a live connection (any API)', params: chatParams } }, async (request) => {
    const chatId = parseId(param(request, 'chatId'), 'chatId');
    return { chatId, onlineUserIds: await core.onlineMembers(actor(request).id, chatId) };
  });

  app.get(
    '/api/chats/:chatId/missed-messages',
    { onRequest: authenticate, schema: { tags, summary: 'Messages created after `since` (ISO-8601), oldest first', params: chatParams, querystring: { type: 'object', properties: { since: { type: 'string' } } } } },
    async (request) => {
      const chatId = parseId(param(request, 'chatId'), 'chatId');
      const since = parseSince(query(request)['since']);
      return (await core.messagesSince(actor(request).id, chatId, since, core.settings.maxPageSize)).map(renderMessage);
    },
  );

  app.get(
    '/api/messages/search',
    {
      onRequest: authenticate,
      schema: {
        tags,
        summary: 'Search messages of the caller’s chats: best match first, then newest; q is 1–200 characters',
        querystring: { type: 'object', properties: { q: { type: 'string', description: SEARCH_SYNTAX }, limit: { type: 'string' }, offset: { type: 'string' } } },
      },
    },
    async (request) => {
      const page = parsePage(query(request)['limit'], query(request)['offset'], { limit: 50, max: core.settings.maxPageSize });
      return (await core.searchMessages(actor(request).id, { q: query(request)['q'], ...page })).map(renderMessage);
    },
  );

  app.post('/api/chats/:chatId/messages/read', { onRequest: authenticate, schema: { tags, summary: 'Mark the chat read up to its newest message', params: chatParams } }, async (request, reply) => {
    await core.markRead(actor(request).id, parseId(param(request, 'chatId'), 'chatId'));
    return reply.status(204).send();
  });
}
