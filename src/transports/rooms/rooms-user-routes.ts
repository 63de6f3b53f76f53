import type { FastifyInstance } from 'fastify';
import type { ChatCore } from '../../core/chat-core.js';
import { actor, type Authenticate } from '../http/authenticate.js';
import { readRoomsForm } from './rooms-form.js';
import { multipartConsumes, tags, userIdParams } from './rooms-schemas.js';
import { parseRoomsUserId } from './rooms-user-ids.js';
import { wireUser } from './rooms-wire.js';

/** `POST/GET /api/v1/user`, `GET /api/v1/user/:id`. */
export function registerRoomsUserRoutes(app: FastifyInstance, core: ChatCore, authenticate: Authenticate): void {
  app.post(
    '/api/v1/user',
    {
      schema: {
        tags,
        summary: 'Create or update the caller\'s profile (multipart: `json` {username, name, description} + optional `photo`)',
        consumes: multipartConsumes,
      },
      onRequest: authenticate,
    },
    async (request) => {
      const me = actor(request);
      const form = await readRoomsForm(request, core.settings.maxUploadBytes);
      const { username, name, description } = form.json;
      await core.updateProfile(me.id, { username, name, description, photo: form.photo });
      return { status: 'ok' };
    },
  );

  app.get('/api/v1/user', { schema: { tags, summary: 'The caller\'s profile' }, onRequest: authenticate }, async (request) => {
    return wireUser(await core.getUser(actor(request).id));
  });

  app.get('/api/v1/user/:id', { schema: { tags, summary: 'Another user\'s profile', params: userIdParams }, onRequest: authenticate }, async (request) => {
    const id = parseRoomsUserId((request.params as { id: string }).id, 'id');
    return wireUser(await core.getUser(id));
  });
}
