import type { Role } from '../../domain/chat.js';
import { ChatError } from '../../domain/errors.js';
import type { CoreContext } from '../core-context.js';
import type { ChatMembership } from '../membership-cache.js';

export interface ChatAccess {
  readonly membership: ChatMembership;
  readonly role: Role;
}

/**
 * The only way a caller reaches a chat: loads it (from the membership cache) and checks that
 * the actor is a current member. Unknown chat → 404; not a member → 403.
 */
export async function accessChat(ctx: CoreContext, actorId: string, chatId: number): Promise<ChatAccess> {
  const membership = await ctx.members.get(chatId);
  if (!membership) throw new ChatError('chat_not_found');
  const role = membership.roles.get(actorId);
  if (!role) throw new ChatError('not_a_member');
  return { membership, role };
}

/** Owner and admins manage a group. */
export function canManage(role: Role): boolean {
  return role === 'owner' || role === 'admin';
}
