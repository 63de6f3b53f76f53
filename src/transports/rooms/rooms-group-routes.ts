import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ChatCore } from '../../core/chat-core.js';
import { parseId } from '../../core/paging.js';
import { notFound } from '../../domain/errors.js';
import { actor, type Authenticate } from '../http/authenticate.js';
import { readRoomsForm } from './rooms-form.js';
import { idParams, multipartConsumes, tags, usersBody } from './rooms-schemas.js';
import { parseUserList } from './rooms-user-ids.js';
import { wireGroup, wireUserRef } from './rooms-wire.js';

/** `/api/v1/group…`: create, delete, info, members, add, remove. */
export function registerRoomsGroupRoutes(app: FastifyInstance, core: ChatCore, authenticate: Authenticate): void {
  /** The group the caller addresses: 400 bad id, 404 unknown or a private chat, 403 not a member. */
  const groupOf = async (request: FastifyRequest): Promise<{ actorId: string; chatId: number }> => {
    const actorId = actor(request).id;
    const chatId = parseId((request.params as { id: string }).id, 'id');
    const { type } = await core.checkAccess(actorId, chatId);
    if (type !== 'group') throw notFound('Group not found');
    return { actorId, chatId };
  };

  app.post(
    '/api/v1/group',
    {
      schema: { tags, summary: 'Create a group (multipart: `json` {name, description, users:[{id,name}]} + optional `photo`)', consumes: multipartConsumes },
      onRequest: authenticate,
    },
    async (request) => {
      const me = actor(request);
      const form = await readRoomsForm(request, core.settings.maxUploadBytes);
      const memberIds = parseUserList(form.json['users'], { required: false });
      const chat = await core.createGroup(me.id, { name: form.json['name'], description: form.json['description'], memberIds, avatar: form.photo });
      return { status: 'ok', group: { id: chat.id, name: chat.name ?? '' } };
    },
  );

  app.delete('/api/v1/group/:id', { schema: { tags, summary: 'Delete a group (owner only)', params: idParams }, onRequest: authenticate }, async (request) => {
    const { actorId, chatId } = await groupOf(request);
    await core.deleteGroup(actorId, chatId);
    return { status: 'ok' };
  });

  app.get('/api/v1/group/:id/info', { schema: { tags, summary: 'A group: {id, name, description, avatar}', params: idParams }, onRequest: authenticate }, async (request) => {
    const { actorId, chatId } = await groupOf(request);
    return wireGroup((await core.getChatSummary(actorId, chatId)).chat);
  });

  app.get('/api/v1/group/:id/users', { schema: { tags, summary: 'Members of a group: {users:[{id, name, role}]}', params: idParams }, onRequest: authenticate }, async (request) => {
    const { actorId, chatId } = await groupOf(request);
    const members = await core.listMembers(actorId, chatId);
    return { users: members.map(({ user, member }) => ({ ...wireUserRef(user), role: member.role })) };
  });

  app.post(
    '/api/v1/group/:id/add',
    { schema: { tags, summary: 'Add users to a group (owner/admin); 409 if one is already in', params: idParams, body: usersBody }, onRequest: authenticate },
    async (request) => {
      const { actorId, chatId } = await groupOf(request);
      await core.addMembers(actorId, chatId, parseUserList((request.body as { users: unknown }).users, { required: true }));
      return { status: 'ok' };
    },
  );

  app.delete(
    '/api/v1/group/:id/delete',
    { schema: { tags, summary: 'Remove users from a group (owner/admin; anyone may remove themselves); 409 if one is not in', params: idParams, body: usersBody }, onRequest: authenticate },
    async (request) => {
      const { actorId, chatId } = await groupOf(request);
      await core.removeMembers(actorId, chatId, parseUserList((request.body as { users: unknown }).users, { required: true }));
      return { status: 'ok' };
    },
  );
}
