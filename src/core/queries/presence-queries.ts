import { accessChat } from '../access/access-chat.js';
import type { CoreContext } from '../core-context.js';

export async function presenceOf(ctx: CoreContext, userId: string): Promise<{ online: boolean; lastSeen: number | null }> {
  const online = await ctx.presence.isOnline([userId]);
  return { online: online.has(userId), lastSeen: await ctx.presence.lastSeen(userId) };
}

/** Members of the chat with a live connection of any dialect, on any instance. */
export async function onlineMembers(ctx: CoreContext, actorId: string, chatId: number): Promise<string[]> {
  const { membership } = await accessChat(ctx, actorId, chatId);
  const online = await ctx.presence.isOnline(membership.memberIds);
  return membership.memberIds.filter((id) => online.has(id));
}
