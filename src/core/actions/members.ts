import { badRequest, ChatError, conflict, forbidden } from '../../domain/errors.js';
import { accessChat, canManage } from '../access/access-chat.js';
import type { CoreContext } from '../core-context.js';
import { MAX_USERS_PER_CALL, requireUsers } from './chats.js';

function uniqueIds(userIds: readonly string[]): string[] {
  const ids = [...new Set(userIds)];
  if (ids.length === 0) throw badRequest('No users given');
  if (ids.length > MAX_USERS_PER_CALL) throw badRequest(`At most ${MAX_USERS_PER_CALL} users at a time`);
  return ids;
}

/**
 * Owner and admins add members to a group. A user already in it is a conflict, and then
 * nothing changes (all or nothing).
 */
export async function addMembers(ctx: CoreContext, actorId: string, chatId: number, userIds: readonly string[]): Promise<string[]> {
  const ids = uniqueIds(userIds);
  const { membership, role } = await accessChat(ctx, actorId, chatId);
  if (membership.type !== 'group') throw badRequest('Members can only be added to group chats');
  if (!canManage(role)) throw forbidden('Only the owner or an admin can add members');
  await requireUsers(ctx, ids);
  const already = ids.find((id) => membership.roles.has(id));
  if (already !== undefined) throw conflict(`User ${already} is already in the group`);
  const added = await ctx.store.addMembers(chatId, ids, 'member', ctx.clock.now());
  ctx.members.invalidate(chatId);
  const chat = await ctx.store.getChat(chatId);
  if (!chat) throw new ChatError('chat_not_found');
  const memberIds = [...membership.memberIds, ...added];
  ctx.broker.publish({ type: 'members.added', chatId, chat, userIds: added, memberIds, actorId });
  return added;
}

/**
 * Owner and admins remove members; anyone may remove themselves (leave). The owner cannot be
 * removed. A user not in the group is a conflict, and then nothing changes.
 */
export async function removeMembers(ctx: CoreContext, actorId: string, chatId: number, userIds: readonly string[]): Promise<string[]> {
  const ids = uniqueIds(userIds);
  const { membership, role } = await accessChat(ctx, actorId, chatId);
  if (membership.type !== 'group') throw badRequest('Members can only be removed from group chats');
  const leavingSelf = ids.length === 1 && ids[0] === actorId;
  if (!leavingSelf && !canManage(role)) throw forbidden('Only the owner or an admin can remove members');
  const missing = ids.find((id) => !membership.roles.has(id));
  if (missing !== undefined) throw conflict(`User ${missing} is not in the group`);
  if (ids.some((id) => membership.roles.get(id) === 'owner')) throw forbidden('The owner cannot be removed from the group');
  if (role === 'admin' && ids.some((id) => id !== actorId && membership.roles.get(id) === 'admin')) {
    throw forbidden('Only the owner can remove an admin');
  }
  const removed = await ctx.store.removeMembers(chatId, ids, ctx.clock.now());
  ctx.members.invalidate(chatId);
  const memberIds = membership.memberIds.filter((id) => !removed.includes(id));
  ctx.broker.publish({ type: 'members.removed', chatId, userIds: removed, memberIds, actorId });
  return removed;
}
