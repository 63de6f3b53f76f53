import type { FastifyInstance } from 'fastify';
import type { ChatCore } from '../../core/chat-core.js';
import { parseChangesRequest, parseId } from '../../core/paging.js';
import { actor, type Authenticate } from '../http/authenticate.js';
import { restMessage } from './hub-wire.js';

const tags = ['hub'];
const messageParams = {
  type: 'object',
  properties: { id: { type: 'string' }, message_id: { type: 'string' } },
  required: ['id', 'message_id'],
} as const;
const conversationParams = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } as const;

function target(params: unknown): { chatId: number; messageId: number } {
  const p = params as { id: string; message_id: string };
  return { chatId: parseId(p.id, 'conversation id'), messageId: parseId(p.message_id, 'message id') };
}

/** Edit, delete and their catch-up (issue 18), in the hub scope. */
export function registerHubEditRoutes(app: FastifyInstance, core: ChatCore, onRequest: Authenticate): void {
  app.patch(
    '/api/v1/chat/conversations/:id/messages/:message_id',
    {
      onRequest,
      schema: {
        tags,
        summary: 'Edit your own message (same text rules as a send); 403 for someone else\'s, 404 for an unknown or deleted one',
        params: messageParams,
        body: { type: 'object', properties: { body: { type: 'string' } }, required: ['body'] },
      },
    },
    async (request) => {
      const me = actor(request).id;
      const message = await core.editMessage(me, target(request.params), (request.body as { body: unknown }).body);
      return { message: restMessage(message) };
    },
  );

  app.delete(
    '/api/v1/chat/conversations/:id/messages/:message_id',
    {
      onRequest,
      schema: {
        tags,
        summary: 'Delete a message: the author, or a group owner/admin. Its text is erased; history keeps a tombstone',
        params: messageParams,
      },
    },
    async (request, reply) => {
      await core.deleteMessage(actor(request).id, target(request.params));
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/v1/chat/conversations/:id/changes',
    {
      onRequest,
      schema: {
        tags,
        summary: 'Catch-up of edits and deletes: messages whose latest change_seq is greater than `after`, in change order',
        params: conversationParams,
        querystring: { type: 'object', properties: { after: { type: 'string' }, limit: { type: 'string' } } },
      },
    },
    async (request) => {
      const chatId = parseId((request.params as { id: string }).id, 'conversation id');
      const q = request.query as { after?: string; limit?: string };
      const { after, limit } = parseChangesRequest(q.after, q.limit);
      const page = await core.changesAfter(actor(request).id, chatId, after, limit);
      return { changes: page.changes.map(restMessage), cursor: page.cursor };
    },
  );
}
