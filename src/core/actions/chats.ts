import type { Chat } from '../../domain/chat.js';
import { badRequest, ChatError, forbidden, notFound } from '../../domain/errors.js';
import { sniffImage } from '../../domain/image-type.js';
import { accessChat, canManage } from '../access/access-chat.js';
import type { CoreContext } from '../core-context.js';
import { hasNul } from '../text-rules.js';

const MAX_NAME = 200;
const MAX_DESCRIPTION = 2000;

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw badRequest('name is required');
  if (name.length > MAX_NAME) throw badRequest(`name must be at most ${MAX_NAME} characters`);
  if (hasNul(name)) throw badRequest('name must not contain NUL characters');
  return name;
}

function checkDescription(description: unknown): string | null {
  if (description === undefined || description === null) return null;
  if (typeof description !== 'string') throw badRequest('description must be a string');
  if (description.length > MAX_DESCRIPTION) throw badRequest(`description must be at most ${MAX_DESCRIPTION} characters`);
  if (hasNul(description)) throw badRequest('description must not contain NUL characters');
  return description;
}

/** Users one call may name (group creation, add, remove): keeps every query within the databases' parameter limits. */
export const MAX_USERS_PER_CALL = 1000;

/** Every named user must exist: naming an unknown user is a 404 (SPEC). */
export async function requireUsers(ctx: CoreContext, ids: readonly string[]): Promise<void> {
  if (ids.length > MAX_USERS_PER_CALL) throw badRequest(`At most ${MAX_USERS_PER_CALL} users at a time`);
  const found = await ctx.users.getMany(ids);
  const missing = ids.find((id) => !found.has(id));
  if (missing !== undefined) throw notFound(`User ${missing} not found`);
}

/** Checks an uploaded image (content, size) and stores it; returns its URL. */
export async function storeImage(ctx: CoreContext, bytes: Buffer, folder: string): Promise<string> {
  if (bytes.length > ctx.settings.maxUploadBytes) throw new ChatError('payload_too_large', `File is larger than ${ctx.settings.maxUploadBytes} bytes`);
  const type = sniffImage(bytes);
  if (!type) throw new ChatError('unsupported_media_type', 'Only PNG, JPEG, GIF and WebP images are accepted');
  const { url } = await ctx.files.put(bytes, type, folder);
  return url;
}

export interface NewGroupInput {
  readonly name: unknown;
  readonly description?: unknown;
  readonly memberIds: readonly string[];
  readonly avatar?: Buffer | undefined;
}

export async function createGroup(ctx: CoreContext, actorId: string, input: NewGroupInput): Promise<Chat> {
  const name = checkName(input.name);
  const description = checkDescription(input.description);
  const memberIds = [...new Set(input.memberIds)].filter((id) => id !== actorId);
  await requireUsers(ctx, memberIds);
  const avatarUrl = input.avatar ? await storeImage(ctx, input.avatar, 'groups') : null;
  const chat = await ctx.store.createGroup({ name, description, avatarUrl, ownerId: actorId, memberIds }, ctx.clock.now());
  ctx.broker.publish({ type: 'chat.created', chatId: chat.id, chat, memberIds: [actorId, ...memberIds], actorId });
  return chat;
}

/** Get-or-create: every "create private chat" call returns the one chat of the pair. */
export async function openPrivateChat(ctx: CoreContext, actorId: string, otherId: string): Promise<{ chat: Chat; created: boolean }> {
  if (otherId === actorId) throw badRequest('A private chat needs another user');
  await requireUsers(ctx, [otherId]);
  const result = await ctx.store.getOrCreatePrivateChat(actorId, otherId, ctx.clock.now());
  if (result.created) {
    ctx.broker.publish({ type: 'chat.created', chatId: result.chat.id, chat: result.chat, memberIds: [actorId, otherId], actorId });
  }
  return result;
}

export interface ChatPatch {
  readonly name?: unknown;
  readonly description?: unknown;
  readonly avatar?: Buffer | undefined;
}

/** Owner and admins edit a group; private chats have nothing to edit. */
export async function updateChat(ctx: CoreContext, actorId: string, chatId: number, patch: ChatPatch): Promise<Chat> {
  const { membership, role } = await accessChat(ctx, actorId, chatId);
  if (membership.type !== 'group') throw badRequest('Only group chats can be edited');
  if (!canManage(role)) throw forbidden('Only the owner or an admin can edit this group');
  const name = patch.name !== undefined ? checkName(patch.name) : undefined;
  const description = patch.description !== undefined ? checkDescription(patch.description) : undefined;
  const avatarUrl = patch.avatar ? await storeImage(ctx, patch.avatar, 'chats') : undefined;
  const chat = await ctx.store.updateChat(
    chatId,
    { ...(name !== undefined ? { name } : {}), ...(description !== undefined ? { description } : {}), ...(avatarUrl !== undefined ? { avatarUrl } : {}) },
    ctx.clock.now(),
  );
  if (!chat) throw new ChatError('chat_not_found');
  ctx.broker.publish({ type: 'chat.updated', chatId, chat, memberIds: membership.memberIds, actorId });
  return chat;
}

/** Only the owner deletes a group. */
export async function deleteGroup(ctx: CoreContext, actorId: string, chatId: number): Promise<void> {
  const { membership, role } = await accessChat(ctx, actorId, chatId);
  if (membership.type !== 'group') throw badRequest('Only group chats can be deleted');
  if (role !== 'owner') throw forbidden('Only the owner can delete this group');
  await ctx.store.deleteChat(chatId);
  ctx.members.invalidate(chatId);
  ctx.broker.publish({ type: 'chat.deleted', chatId, memberIds: membership.memberIds, actorId });
}
