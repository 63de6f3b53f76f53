import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ChatCore } from '../../core/chat-core.js';
import { parseChangesRequest, parseId } from '../../core/paging.js';
import { badRequest } from '../../domain/errors.js';
import { actor, type Authenticate } from '../http/authenticate.js';
import { renderMessage } from './stomp-render.js';

const tags = ['stomp'];
const messageParams = {
  type: 'object',
  properties: { chatId: { type: 'string' }, messageId: { type: 'string' } },
  required: ['chatId', 'messageId'],
} as const;
const chatParams = { type: 'object', properties: { chatId: { type: 'string' } }, required: ['chatId'] } as const;

function target(request: FastifyRequest): { chatId: number; messageId: number } {
  const p = request.params as { chatId: string; messageId: string };
  return { chatId: parseId(p.chatId, 'chatId'), messageId: parseId(p.messageId, 'messageId') };
}

/** Edit, delete and their catch-up (issue 18) on the `stomp` REST API. */
export function registerStompEditRoutes(app: FastifyInstance, core: ChatCore, authenticate: Authenticate): void {
  app.put(
    '/api/chats/:chatId/messages/:messageId',
    {
      onRequest: authenticate,
      schema: {
        tags,
        summary: 'Edit your own message (same text rules as a send) → MessageResponse with editedAt; MESSAGE_UPDATED on the topic',
        params: messageParams,
        body: { type: 'object', properties: { content: { type: 'string' } }, required: ['content'] },
      },
    },
    async (request) => {
      const raw = request.body;
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest('Body must be a JSON object');
      const message = await core.editMessage(actor(request).id, target(request), (raw as { content: unknown }).content);
      return renderMessage(message);
    },
  );

  app.delete(
    '/api/chats/:chatId/messages/:messageId',
    {
      onRequest: authenticate,
      schema: { tags, summary: 'Delete a message (the author, or a group owner/admin): 204; MESSAGE_DELETED on the topic', params: messageParams },
    },
    async (request, reply) => {
      await core.deleteMessage(actor(request).id, target(request));
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/chats/:chatId/changes',
    {
      onRequest: authenticate,
      schema: {
        tags,
        summary: 'Catch-up of edits and deletes: messages whose latest changeSeq is greater than `after`, in change order',
        params: chatParams,
        querystring: { type: 'object', properties: { after: { type: 'string' }, limit: { type: 'string' } } },
      },
    },
    async (request) => {
      const chatId = parseId((request.params as { chatId: string }).chatId, 'chatId');
      const q = request.query as { after?: string; limit?: string };
      const { after, limit } = parseChangesRequest(q.after, q.limit);
      const page = await core.changesAfter(actor(request).id, chatId, after, limit);
      return { chatId, changes: page.changes.map(renderMessage), cursor: page.cursor };
    },
  );
}
