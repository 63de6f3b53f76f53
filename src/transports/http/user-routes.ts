import type { FastifyInstance } from 'fastify';
import type { ChatCore } from '../../core/chat-core.js';
import { parseUserId } from '../../core/paging.js';
import { badRequest } from '../../domain/errors.js';
import { displayName, type User } from '../../domain/user.js';
import type { Authenticate } from './authenticate.js';

const tags = ['users'];

/** The public card of a user: what a client needs to address and title it, nothing private. */
function card(user: User) {
  return { id: user.id, username: user.username, name: displayName(user) };
}

/**
 * User lookups for the web client: find someone by username to start a chat or add them to a
 * group, and resolve a sender id to a name. Any authenticated user may ask (as with `hub`
 * presence); only id, username and display name are returned.
 */
export function registerUserRoutes(app: FastifyInstance, core: ChatCore, authenticate: Authenticate): void {
  app.get(
    '/api/users/by-username/:username',
    {
      onRequest: authenticate,
      schema: { tags, summary: 'Find a user by username (404 if unknown)', params: { type: 'object', properties: { username: { type: 'string' } }, required: ['username'] } },
    },
    async (request) => {
      const username = (request.params as { username: string }).username;
      if (username === '' || username.length > 200) throw badRequest('username must be a non-empty string');
      return card(await core.findUserByUsername(username));
    },
  );
  app.get(
    '/api/users/:userId',
    {
      onRequest: authenticate,
      schema: { tags, summary: 'A user by id (404 if unknown)', params: { type: 'object', properties: { userId: { type: 'string' } }, required: ['userId'] } },
    },
    async (request) => card(await core.getUser(parseUserId((request.params as { userId: string }).userId))),
  );
}
