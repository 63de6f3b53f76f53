import type { CoreContext } from './core-context.js';
import type { ChatMembership } from './membership-cache.js';

/** More members than `largeGroupSize`: typing, presence and `stomp` receipts are thinned out there. */
export function isLargeGroup(ctx: Pick<CoreContext, 'settings'>, membership: Pick<ChatMembership, 'roles'>): boolean {
  return membership.roles.size > ctx.settings.largeGroupSize;
}

/** Whether the user is in any large group (from the membership cache; one store read for the chat list). */
export async function inLargeGroup(ctx: CoreContext, userId: string): Promise<boolean> {
  const chatIds = await ctx.store.chatIdsOf(userId);
  const memberships = await Promise.all(chatIds.map((id) => ctx.members.get(id)));
  return memberships.some((m) => m !== undefined && isLargeGroup(ctx, m));
}
